#!/bin/bash
# The same configuration as resources.crm, with pcs (run on one node once both are online; pcs edits the
# CIB through cibadmin, pcsd is not needed). PCS_FILE=cib.xml makes every command edit that file instead
# (pcs -f), to be pushed with `cibadmin --replace --xml-file cib.xml`.
set -euo pipefail
SHARED_DIR=${SHARED_DIR:-${LAB_DIR:-/var/lib/vmmanager-lab}/shared}
pcs() { command pcs ${PCS_FILE:+-f "$PCS_FILE"} "$@"; }

pcs property set stonith-enabled=false cluster-recheck-interval=1min
pcs resource defaults update resource-stickiness=100 migration-threshold=3 failure-timeout=10min

# The guests' storage, mounted on both nodes at once (NFS, GFS2 or OCFS2 in production).
pcs resource create shared-fs ocf:heartbeat:Filesystem device="$SHARED_DIR" directory=/srv/vm fstype=none \
    options=bind op monitor interval=20s timeout=40s clone interleave=true

for g in vm1 vm2; do
    pcs resource create "$g" ocf:vmmanager:guest config="/srv/vm/$g/$g.xml" migration_transport=tcp \
        meta allow-migrate=true \
        op start timeout=120s op stop timeout=90s \
        op monitor interval=10s timeout=30s \
        op monitor interval=31s timeout=30s OCF_CHECK_LEVEL=10 \
        op migrate_to timeout=120s op migrate_from timeout=60s
    pcs constraint order start shared-fs-clone then start "$g"
    pcs constraint colocation add "$g" with shared-fs-clone INFINITY
done
pcs constraint location vm1 prefers alpha=50
pcs constraint location vm2 prefers bravo=50

# Two containers (libvirt LXC) in one group: started in order, stopped in reverse, kept together.
for c in ct1 ct2; do
    pcs resource create "$c" ocf:vmmanager:guest config="/srv/vm/$c/$c.xml" hypervisor=lxc:///system \
        meta allow-migrate=false \
        op start timeout=60s op stop timeout=30s op monitor interval=10s timeout=30s \
        --group cts
done
pcs constraint order start shared-fs-clone then start cts
pcs constraint colocation add cts with shared-fs-clone INFINITY
pcs constraint location cts prefers alpha=50
