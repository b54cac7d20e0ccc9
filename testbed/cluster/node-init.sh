#!/bin/bash
# The init of a cluster lab node. lab.sh starts it as
#   setsid nsenter --net=/run/netns/vmm-NODE unshare --pid --fork --mount-proc --mount --uts --ipc \
#       --propagation private tini -s -- node-init.sh NODE LAB_DIR
# so that tini is PID 1 of the node (it reaps orphans) and this script is its child. It makes the
# machine's file system look like the node's own: every directory under LAB_DIR/nodes/NODE/root that
# exists is bind-mounted over the same path (its /etc/ha.d, /etc/corosync, /etc/libvirt, /etc/vmmanager,
# /var/lib/*, /var/log, /var/spool, /usr/local/sbin where `make install DESTDIR=` put vmmanager), gives
# the node a fresh /run and /dev/shm (a power-cycled node starts with them empty), refuses systemctl and
# systemd (heartbeat's failed-stop answer is a reboot; in a PID namespace reboot(2) only ends this node,
# and the stubs make sure no reboot is even attempted through systemd), starts virtlogd and libvirtd
# (listening on the node network for peers and live migration) and then sleeps: SIGKILL of tini is the
# lab's power-cable pull.
set -euo pipefail
NODE=${1:?usage: node-init.sh NODE LAB_DIR}
LAB_DIR=${2:?usage: node-init.sh NODE LAB_DIR}
ROOT=$LAB_DIR/nodes/$NODE/root

[[ $$ != 1 ]] || { echo "node-init.sh must run under tini" >&2; exit 1; }
hostname "$NODE"

mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mkdir -p /run/lock /run/libvirt /run/vmmanager /run/resource-agents /run/crm /run/heartbeat/ccm \
    /run/heartbeat/crm /run/heartbeat/dopd
chmod 1755 /run/resource-agents
chown hacluster:haclient /run/crm /run/heartbeat /run/heartbeat/ccm /run/heartbeat/crm /run/heartbeat/dopd
chmod 750 /run/crm /run/heartbeat /run/heartbeat/ccm /run/heartbeat/crm /run/heartbeat/dopd

for d in etc/ha.d etc/corosync etc/libvirt etc/vmmanager etc/pacemaker \
    var/lib/libvirt var/lib/heartbeat var/lib/corosync var/lib/pacemaker var/lib/vmmanager \
    var/log var/spool var/cache/libvirt usr/local/sbin usr/local/lib/vmmanager usr/lib/ocf/resource.d; do
    [[ -d $ROOT/$d ]] || continue
    mkdir -p "/$d"
    mount --bind "$ROOT/$d" "/$d"
done
for f in etc/hosts etc/hostname; do
    [[ -f $ROOT/$f ]] && mount --bind "$ROOT/$f" "/$f"
done
for f in /usr/bin/systemctl /usr/lib/systemd/systemd; do
    [[ -e $f ]] && mount --bind "$LAB_DIR/refuse" "$f"
done
# Mount points of the groups' file systems, private to this node.
mount -t tmpfs -o mode=0755 tmpfs /srv
mkdir -p /srv/vm-alpha /srv/vm-bravo /srv/vm

# libvirt's LXC driver cannot start a container with the hybrid cgroup2 mount present ("Unable to create
# directory /sys/fs/cgroup/unified"): take it away in the node's own mount namespace (private: the
# machine's mounts are untouched).
if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
virtlogd -d
libvirtd -d --listen
# The node's watcher, as the package's systemd unit runs it: it reports what no cluster action does, and
# carries out each guest's failure_response (tell Pacemaker at once, or restart here under heartbeat).
start_watch() {
    setsid /usr/local/sbin/vmctl watch --connect qemu:///system --also-connect lxc:///system >>/var/log/vmctl-watch.log 2>&1 </dev/null &
    echo $! >/run/vmctl-watch.pid
}
[[ -x /usr/local/sbin/vmctl ]] && start_watch
echo "node $NODE: up (libvirtd and vmctl watch started)"
exec sleep infinity
