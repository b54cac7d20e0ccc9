#!/bin/bash
# Init of testbed node B. up.sh runs it as
#   ip netns exec vmm-nodeB unshare --mount --uts --propagation private node-b-init.sh TESTBED_DIR
# so it starts in node B's own network, mount and UTS namespaces. It gives the
# node its own hostname, /run and libvirt state/config/log dirs (bind mounts of
# TESTBED_DIR/nodeB/*), starts virtlogd and then becomes tini running libvirtd
# in the foreground (libvirtd's pid goes to TESTBED_DIR/run/nodeB-libvirtd.pid).
# Everything outside those mounts (kernel, initrd, console logs under
# TESTBED_DIR) is shared with node A: that is the testbed's "shared storage".
set -euo pipefail

TESTBED_DIR=${1:?usage: node-b-init.sh TESTBED_DIR}
NB=$TESTBED_DIR/nodeB
RUN=$TESTBED_DIR/run

hostname nodeB

# Keep node A's libvirt socket dir reachable from inside node B (before /run
# is covered) so that node B's libvirtd can do peer-to-peer migration back:
#   qemu+unix:///system?socket=$NB/nodeA-run-libvirt/libvirt-sock
mkdir -p "$NB/nodeA-run-libvirt"
if [[ -d /run/libvirt ]]; then
    mount --bind /run/libvirt "$NB/nodeA-run-libvirt"
fi

mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/libvirt /run/lock
mount --bind "$NB/run-libvirt" /run/libvirt
mount --bind "$NB/var-lib-libvirt" /var/lib/libvirt
mount --bind "$NB/var-log-libvirt" /var/log/libvirt
mount --bind "$NB/var-cache-libvirt" /var/cache/libvirt
mount --bind "$NB/etc-libvirt" /etc/libvirt

# Reuse the virtlogd of an earlier node B libvirtd (e.g. one that crashed):
# it serves the same dirs and the guests still running here log through it.
vpid=$(cat "$RUN/nodeB-virtlogd.pid" 2>/dev/null || true)
vstat=""
if [[ $vpid =~ ^[0-9]+$ ]]; then vstat=$(cat "/proc/$vpid/stat" 2>/dev/null || true); fi
# /proc/PID/stat: "PID (comm) STATE ..."; a zombie (Z) is dead.
if [[ $vstat != *"(virtlogd) "* || ${vstat##*) } == Z* ]]; then
    virtlogd -d -p "$RUN/nodeB-virtlogd.pid"
fi
# Containers (libvirt's LXC driver) need cgroups. `ip netns exec` remounted /sys for node B's network
# namespace, which took the cgroup mounts beneath it: mount the machine's cgroup v1 hierarchies again here
# (the same hierarchies, attached once more). Not the hybrid cgroup2 mount /sys/fs/cgroup/unified: with it,
# libvirt_lxc fails ("Unable to create directory /sys/fs/cgroup/unified"). This is node B's own mount
# namespace; the machine's mounts are untouched.
if ! mountpoint -q /sys/fs/cgroup; then
    mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
    while read -r _ dir type options _; do
        [[ $type == cgroup && $dir == /sys/fs/cgroup/* ]] || continue
        controllers=$(tr ',' '\n' <<<"$options" | grep -Ev '^(rw|ro|relatime|nosuid|nodev|noexec)$' | paste -sd,)
        mkdir -p "$dir"
        mount -t cgroup -o "$controllers" cgroup "$dir" || echo "node B: cannot mount cgroup $dir ($controllers)" >&2
    done </proc/1/mounts
fi
# tini -s: a child subreaper, so that the qemu processes libvirtd daemonizes
# are reaped as soon as they exit (see up.sh).
exec tini -s -- libvirtd -p "$RUN/nodeB-libvirtd.pid"
