# Shared names of the cluster lab (sourced by lab.sh, node-init.sh and the scenarios).
# shellcheck shell=bash disable=SC2034
TESTBED_DIR=${TESTBED_DIR:-/var/lib/vmmanager-testbed}
LAB_DIR=${LAB_DIR:-/var/lib/vmmanager-lab}
LAB_DIR=${LAB_DIR%/}
LAB_RUN=$LAB_DIR/run

# The thesis's node names. heartbeat and corosync want the node name to be the host name.
NODES=(alpha bravo)
declare -A NODE_ADDR=([alpha]=10.214.0.1 [bravo]=10.214.0.2)
LAN_PREFIX=24
LAN_ADDR=10.214.0.254     # the LAN namespace: the switch and the admins' SMTP server
CLIENT_ADDR=10.214.0.100  # the users' client
SMTP_PORT=25

# Guests per group. heartbeat: each node's group on its own loop-device file system (the DRBD volume's
# stand-in), two guests each. Pacemaker: the guests on storage both nodes mount (NFS's stand-in), so that
# they can live-migrate.
declare -A GROUP_GUESTS=([alpha]="web1 db1" [bravo]="web2 db2")
# Containers per group (libvirt LXC, the seeds' Linux-VServers): started after the group's VMs, on the
# same file system; each has its own address and MAC on the node's bridge.
declare -A GROUP_CONTAINERS=([alpha]="ct1" [bravo]="ct2")
declare -A GUEST_ADDR=([web1]=10.214.0.11 [db1]=10.214.0.12 [web2]=10.214.0.21 [db2]=10.214.0.22
    [vm1]=10.214.0.31 [vm2]=10.214.0.32 [ct1]=10.214.0.13 [ct2]=10.214.0.23)
declare -A GUEST_MAC=([web1]=52:54:00:d7:00:11 [db1]=52:54:00:d7:00:12 [web2]=52:54:00:d7:00:21
    [db2]=52:54:00:d7:00:22 [vm1]=52:54:00:d7:00:31 [vm2]=52:54:00:d7:00:32 [ct1]=52:54:00:d7:00:13
    [ct2]=52:54:00:d7:00:23)
PCMK_GUESTS="vm1 vm2"
PCMK_CONTAINERS="ct1 ct2"  # one group, on the same storage

netns_of() { echo "vmm-$1"; }   # vmm-alpha, vmm-bravo, vmm-lan, vmm-client

_T0=${EPOCHREALTIME/[.,]/}
step() {
    local now=${EPOCHREALTIME/[.,]/}
    local ms=$(((now - _T0) / 1000))
    printf '[%s %3d.%03ds] %s\n' "${_SCRIPT_NAME:-lab}" $((ms / 1000)) $((ms % 1000)) "$*"
}
warn() { step "WARNING: $*" >&2; }
die() {
    step "ERROR: $*" >&2
    exit 1
}

# node_pid NODE: the PID (in the machine's namespace) of the node's init (tini), if it runs.
node_pid() {
    local f=$LAB_RUN/$1.pid pid
    [[ -s $f ]] || return 1
    read -r pid <"$f"
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm && $(</proc/"$pid"/comm) == tini ]] || return 1
    echo "$pid"
}

# in_node NODE CMD...: runs CMD inside the node (its network, mount, UTS, IPC and PID namespaces) with a
# clean environment, as its own init would.
in_node() {
    local n=$1 pid
    shift
    pid=$(node_pid "$n") || die "node $n is not running"
    nsenter -t "$pid" -n -m -u -i -p --wd=/ -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 "$@"
}
