#!/bin/bash
# The two-node cluster lab: the thesis's cluster (alpha and bravo, heartbeat v1) or the same two nodes
# under Pacemaker/Corosync, on one machine, with real daemons.
#
#   lab.sh up heartbeat|pacemaker   bring the lab up (idempotent for the same stack)
#   lab.sh down                     remove everything it made, by PID
#   lab.sh status                   nodes, daemons, guests
#   lab.sh kill NODE                SIGKILL the node's init: everything in it dies (the power cable)
#   lab.sh boot NODE                start a stopped node again (fresh /run; its disk state kept)
#   lab.sh start-stack NODE         start the cluster manager on a running node
#   lab.sh in NODE CMD...           run CMD inside the node
#
# Each node has its own network, mount, UTS, IPC and PID namespaces and its own libvirtd, so a guest
# runs on one node only and killing the node kills its guests. vmmanager is installed into each node
# by `make install DESTDIR=`. The LAN: a bridge in namespace vmm-lan with a port to each node's bridge
# (where the guests' taps are) and to the client namespace vmm-client; the admins' SMTP server listens
# in vmm-lan. See docs/operations.md ("The lab") and examples/cluster/.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
_SCRIPT_NAME=lab
# shellcheck source=lib.sh
source "$HERE/lib.sh"
EXAMPLES=$REPO/examples/cluster

[[ $(id -u) == 0 ]] || die "must run as root"
mkdir -p "$LAB_RUN"

CLUSTER_PACKAGES=(heartbeat pacemaker corosync crmsh pacemaker-cli-utils resource-agents
    pcs python3-aiosmtpd iputils-ping e2fsprogs tini libvirt-daemon-driver-lxc busybox-static)

ensure_cluster_packages() {
    local missing=() p
    for p in "${CLUSTER_PACKAGES[@]}"; do
        [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) == ii* ]] || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return
    step "packages: installing ${missing[*]}"
    # Their postinst scripts would start the daemons in the machine's own namespaces: refuse that.
    local made_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    ((made_policy)) && rm -f /usr/sbin/policy-rc.d
    step "packages: installed"
}

# ------------------------------------------------------------------------------------------- network
ensure_netns() { [[ -e /run/netns/$1 ]] || ip netns add "$1"; }

setup_network() {
    local lan n ns
    lan=$(netns_of lan)
    ensure_netns "$lan"
    ip -n "$lan" link set lo up
    ip -n "$lan" link show sw >/dev/null 2>&1 || ip -n "$lan" link add sw type bridge
    # No STP and no forwarding delay: a port forwards at once (a node that boots again is on the LAN).
    ip -n "$lan" link set sw type bridge stp_state 0 forward_delay 0
    ip -n "$lan" addr replace "$LAN_ADDR/$LAN_PREFIX" dev sw
    ip -n "$lan" link set sw up
    for n in "${NODES[@]}" client; do
        ns=$(netns_of "$n")
        ensure_netns "$ns"
        ip -n "$ns" link set lo up
        if ! ip -n "$lan" link show "p-$n" >/dev/null 2>&1; then
            ip -n "$lan" link add "p-$n" type veth peer name eth0 netns "$ns"
        fi
        ip -n "$lan" link set "p-$n" master sw up
        if [[ $n == client ]]; then
            ip -n "$ns" addr replace "$CLIENT_ADDR/$LAN_PREFIX" dev eth0
            ip -n "$ns" link set eth0 up
        else
            # The node's own bridge: its LAN port and its guests' taps; the node's address is on it.
            ip -n "$ns" link show br0 >/dev/null 2>&1 || ip -n "$ns" link add br0 type bridge
            ip -n "$ns" link set br0 type bridge stp_state 0 forward_delay 0
            ip -n "$ns" link set eth0 master br0 up
            ip -n "$ns" addr replace "${NODE_ADDR[$n]}/$LAN_PREFIX" dev br0
            ip -n "$ns" link set br0 up
        fi
    done
    step "network: LAN $LAN_ADDR/$LAN_PREFIX (vmm-lan), nodes ${NODES[*]}, client $CLIENT_ADDR"
}

# ------------------------------------------------------------------------------------------- guests
# guest_xml NAME DIR DISK: the guest's domain XML, its files in DIR (the node's path of the shared
# storage), with a data disk DIR/data.img if DISK is yes.
guest_xml() {
    local g=$1 dir=$2 disk=$3 disk_xml=""
    if [[ $disk == yes ]]; then
        disk_xml="    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source file='$dir/data.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>"
    fi
    cat <<XML
<domain type='qemu'>
  <name>$g</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$TESTBED_DIR/images/vmlinuz</kernel>
    <initrd>$TESTBED_DIR/images/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 vmm.ip=${GUEST_ADDR[$g]}/$LAN_PREFIX</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
$disk_xml
    <interface type='bridge'>
      <mac address='${GUEST_MAC[$g]}'/>
      <source bridge='br0'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='$dir/console.log' append='on'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

# container_xml NAME: a container's domain XML (libvirt LXC): an application container on the node's own
# root, with its own network (a veth on the node's bridge, its address and MAC fixed, as a vserver's). Its
# init, a shell, serves the client's echo port (7) and answers pings, until SIGTERM (the agent's shutdown,
# shutdown_mode = signal) ends it. No saved state: a takeover starts it afresh.
container_xml() {
    local c=$1
    cat <<XML
<domain type='lxc'>
  <name>$c</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>trap 'exit 0' TERM; busybox nc -ll -p 7 -e /bin/cat &amp; while :; do sleep 1; done</initarg>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <interface type='bridge'>
      <mac address='${GUEST_MAC[$c]}'/>
      <source bridge='br0'/>
      <ip address='${GUEST_ADDR[$c]}' prefix='$LAN_PREFIX'/>
    </interface>
    <console type='pty'/>
  </devices>
</domain>
XML
}

# populate DIR PREFIX DISK GUESTS...: each guest's directory, XML and (DISK=yes) data disk under DIR (seen by
# the nodes as PREFIX).
populate() {
    local dir=$1 prefix=$2 disk=$3 g
    shift 3
    for g in "$@"; do
        mkdir -p "$dir/$g"
        guest_xml "$g" "$prefix/$g" "$disk" >"$dir/$g/$g.xml"
        if [[ $disk == yes && ! -e $dir/$g/data.img ]]; then truncate -s 16M "$dir/$g/data.img"; fi
    done
}

# populate_containers DIR CONTAINERS...: each container's directory and XML under DIR.
populate_containers() {
    local dir=$1 c
    shift
    for c in "$@"; do
        mkdir -p "$dir/$c"
        container_xml "$c" >"$dir/$c/$c.xml"
    done
}

# heartbeat: one ext4 file system per group on a loop device, labelled vm-NODE, made and filled in a
# private mount namespace (the machine's own mount table is never touched).
setup_loop_storage() {
    local n img dev mnt
    mkdir -p "$LAB_DIR/storage"
    for n in "${NODES[@]}"; do
        img=$LAB_DIR/storage/vm-$n.img
        dev=$(losetup -j "$img" -O NAME -n 2>/dev/null | head -n1 || true)
        if [[ -z $dev ]]; then
            if [[ ! -e $img ]]; then
                truncate -s 640M "$img"
                mkfs.ext4 -q -F -L "vm-$n" "$img"
            fi
            dev=$(losetup --find --show "$img")
        fi
        echo "$dev" >"$LAB_RUN/loop-$n"
        mnt=$LAB_DIR/storage/mnt-$n
        mkdir -p "$mnt"
        # shellcheck disable=SC2086 # the guest list is words
        unshare --mount --propagation private bash -c "mount '$dev' '$mnt' && \
            $(declare -f guest_xml populate container_xml populate_containers); $(declare -p GUEST_ADDR GUEST_MAC); \
            TESTBED_DIR='$TESTBED_DIR' LAN_PREFIX=$LAN_PREFIX populate '$mnt' /srv/vm-$n yes ${GROUP_GUESTS[$n]} && \
            LAN_PREFIX=$LAN_PREFIX populate_containers '$mnt' ${GROUP_CONTAINERS[$n]}; umount '$mnt'"
        step "storage: $dev (label vm-$n, ext4) holds ${GROUP_GUESTS[$n]} ${GROUP_CONTAINERS[$n]}"
    done
}

# Pacemaker: the guests' XML and saved state live on storage both nodes mount at once; a bind mount of
# one directory of the machine, made by a cloned Filesystem resource, stands in for NFS or GFS2. These
# guests have no data disk: libvirt (rightly) does not take a bind-mounted local ext4 for shared storage
# and refuses to live-migrate a guest with a disk on it; on NFS, GFS2 or OCFS2 it does.
setup_shared_storage() {
    mkdir -p "$LAB_DIR/shared"
    # shellcheck disable=SC2086
    populate "$LAB_DIR/shared" /srv/vm no $PCMK_GUESTS
    # shellcheck disable=SC2086
    populate_containers "$LAB_DIR/shared" $PCMK_CONTAINERS
    step "storage: $LAB_DIR/shared (mounted at /srv/vm on both nodes) holds $PCMK_GUESTS $PCMK_CONTAINERS"
}

# ------------------------------------------------------------------------------------------- nodes
ensure_release_build() {
    if [[ ! -x $REPO/.build/release/vmmanager || ! -x $REPO/.build/release/vmmanager-agent ||
        ! -x $REPO/.build/release/vmctl ]] ||
        [[ -n $(find "$REPO/Sources" "$REPO/Package.swift" -newer "$REPO/.build/release/vmmanager" -print -quit) ]]; then
        step "build: make release"
        make -C "$REPO" -s release >/dev/null
    fi
}

# prepare_node NODE STACK: the node's root overlay (copied from the machine's packages on first use) and
# vmmanager installed into it by the project's own install target.
prepare_node() {
    local n=$1 stack=$2 peer r
    r=$LAB_DIR/nodes/$n/root
    for peer in "${NODES[@]}"; do [[ $peer != "$n" ]] && break; done
    mkdir -p "$r"/etc "$r"/usr/local/sbin "$r"/usr/lib/ocf "$r"/var/lib "$r"/var/log/libvirt "$r"/var/cache/libvirt
    [[ -d $r/etc/ha.d ]] || cp -a /etc/ha.d "$r/etc/ha.d"
    [[ -d $r/etc/corosync ]] || cp -a /etc/corosync "$r/etc/corosync"
    [[ -d $r/usr/lib/ocf/resource.d ]] || cp -a /usr/lib/ocf/resource.d "$r/usr/lib/ocf/resource.d"
    local d
    for d in heartbeat corosync pacemaker; do
        [[ -d $r/var/lib/$d ]] || cp -a "/var/lib/$d" "$r/var/lib/$d"
    done
    mkdir -p "$r/var/lib/libvirt" "$r/var/lib/vmmanager" "$r/var/spool" "$r/var/log/crmsh" "$r/var/log/pacemaker" "$r/var/log/corosync" "$r/etc/libvirt"
    chown hacluster:haclient "$r/var/log/pacemaker" 2>/dev/null || true
    make -C "$REPO" -s install DESTDIR="$r" PREFIX=/usr/local >/dev/null

    printf '%s\n' "$n" >"$r/etc/hostname"
    {
        echo "127.0.0.1 localhost"
        local m
        for m in "${NODES[@]}"; do echo "${NODE_ADDR[$m]} $m"; done
        echo "$LAN_ADDR lan smtp"
        echo "$CLIENT_ADDR client"
    } >"$r/etc/hosts"
    # libvirt: its own host UUID (two daemons with one UUID refuse to migrate to each other), TCP without
    # authentication on the node network for peers and migration (lab only: production uses TLS or SSH).
    cp -f /etc/libvirt/qemu.conf "$r/etc/libvirt/qemu.conf" 2>/dev/null || true
    local q=$r/etc/libvirt/qemu.conf
    [[ -e $q ]] || : >"$q"  # the machine has none until the testbed wrote one: the lines below suffice
    sed -i -E '/^[[:space:]]*(user|group|dynamic_ownership|remember_owner|security_driver)[[:space:]]*=/d' "$q"
    printf 'user = "root"\ngroup = "root"\ndynamic_ownership = 0\nremember_owner = 0\nsecurity_driver = "none"\n' >>"$q"
    [[ -s $LAB_DIR/nodes/$n/host_uuid ]] || cat /proc/sys/kernel/random/uuid >"$LAB_DIR/nodes/$n/host_uuid"
    printf 'host_uuid = "%s"\nlisten_tls = 0\nlisten_tcp = 1\nauth_tcp = "none"\n' \
        "$(<"$LAB_DIR/nodes/$n/host_uuid")" >"$r/etc/libvirt/libvirtd.conf"
    # vmmanager: the nodes to ask before a start, where mail goes (one file for both nodes).
    install -m 0644 "$EXAMPLES/vmmanager.conf" "$r/etc/vmmanager/vmmanager.conf"
    # What the node's vmctl watch does when a guest fails: heartbeat v1 monitors nothing, so the watcher
    # restarts the guest here once, then hands its group to the peer; Pacemaker is told at once.
    if [[ $stack == heartbeat ]]; then
        sed -i 's/^#failure_response = restart$/failure_response = restart/; s/^#local_restarts = 2$/local_restarts = 1/' \
            "$r/etc/vmmanager/vmmanager.conf"
    else
        sed -i 's/^#failure_response = pacemaker$/failure_response = pacemaker/' "$r/etc/vmmanager/vmmanager.conf"
    fi

    if [[ $stack == heartbeat ]]; then
        install -m 0644 "$EXAMPLES/heartbeat/haresources" "$r/etc/ha.d/haresources"
        sed -e "s/@PEER_ADDR@/${NODE_ADDR[$peer]}/" "$EXAMPLES/heartbeat/ha.cf" >"$r/etc/ha.d/ha.cf"
        install -m 0600 "$EXAMPLES/heartbeat/authkeys" "$r/etc/ha.d/authkeys"
        rm -f "$r/etc/corosync/corosync.conf"
    else
        rm -f "$r/etc/ha.d/haresources" "$r/etc/ha.d/ha.cf"
        install -m 0644 "$EXAMPLES/pacemaker/corosync.conf" "$r/etc/corosync/corosync.conf"
        # corosync's authkey: one secret shared by both nodes, made once per lab.
        [[ -s $LAB_DIR/corosync-authkey ]] || head -c 256 /dev/urandom >"$LAB_DIR/corosync-authkey"
        install -m 0400 "$LAB_DIR/corosync-authkey" "$r/etc/corosync/authkey"
    fi
}

boot_node() {
    local n=$1 pid i
    if pid=$(node_pid "$n"); then
        step "node $n: running (init pid $pid)"
        return
    fi
    setsid nsenter --net="/run/netns/$(netns_of "$n")" unshare --pid --fork --mount-proc --mount --uts --ipc \
        --propagation private tini -s -- "$HERE/node-init.sh" "$n" "$LAB_DIR" \
        </dev/null >>"$LAB_DIR/nodes/$n/console.log" 2>&1 &
    # The PID the machine sees for the node's init is unshare's child: find tini by its parent.
    local launcher=$!
    for ((i = 0; i < 100; i++)); do
        pid=$(pgrep -P "$launcher" -x tini || true)
        [[ -n $pid ]] && break
        sleep 0.05
    done
    [[ -n $pid ]] || die "node $n: init did not start (see $LAB_DIR/nodes/$n/console.log)"
    echo "$pid" >"$LAB_RUN/$n.pid"
    # Trust the node only when its init really is in a PID namespace of its own (the reboot hazard).
    [[ $(readlink "/proc/$pid/ns/pid") != "$(readlink /proc/self/ns/pid)" ]] ||
        { kill -KILL "$pid"; die "node $n: init is in the machine's PID namespace; refusing"; }
    # A first libvirtd probes QEMU's capabilities: seconds of CPU, more on a loaded machine.
    for ((i = 0; i < 600; i++)); do
        in_node "$n" virsh -q -c qemu:///system version >/dev/null 2>&1 && break
        sleep 0.1
    done
    in_node "$n" virsh -q -c qemu:///system version >/dev/null 2>&1 ||
        die "node $n: libvirtd does not answer (see $LAB_DIR/nodes/$n/root/var/log/libvirt)"
    step "node $n: up (init pid $pid, own PID namespace), libvirtd answering"
}

kill_node() {
    local n=$1 pid i
    pid=$(node_pid "$n") || { step "node $n: not running"; return 0; }
    kill -KILL "$pid"
    for ((i = 0; i < 200; i++)); do [[ -e /proc/$pid ]] || break; sleep 0.05; done
    rm -f "$LAB_RUN/$n.pid"
    step "node $n: killed (init pid $pid and everything in its PID namespace)"
}

start_stack() {
    local n=$1 stack
    stack=$(<"$LAB_DIR/stack")
    if [[ $stack == heartbeat ]]; then
        # As shipped: Debian's init script (it makes heartbeat's run directories and checks that no
        # resource is held before it starts the daemon).
        in_node "$n" /etc/init.d/heartbeat start >>"$LAB_DIR/nodes/$n/console.log" 2>&1
        local pid
        pid=$(in_node "$n" cat /run/heartbeat.pid 2>/dev/null || true)
        check_daemon "$n" heartbeat
    else
        in_node "$n" bash -c 'setsid corosync -f </dev/null >>/var/log/corosync.log 2>&1 &
            for i in $(seq 50); do corosync-cfgtool -s >/dev/null 2>&1 && break; sleep 0.1; done
            PCMK_logfile=/var/log/pacemaker/pacemaker.log setsid pacemakerd -f </dev/null >>/var/log/pacemakerd.out 2>&1 &'
        check_daemon "$n" corosync
        check_daemon "$n" pacemakerd
    fi
}

# check_daemon NODE COMM: the daemon runs and is in the node's PID namespace, not the machine's.
check_daemon() {
    local n=$1 comm=$2 npid p i
    npid=$(node_pid "$n")
    for ((i = 0; i < 100; i++)); do
        p=$(pgrep -x "$comm" --ns "$npid" --nslist pid | head -n1 || true)
        [[ -n $p ]] && break
        sleep 0.1
    done
    [[ -n $p ]] || die "node $n: $comm did not start (see $LAB_DIR/nodes/$n/root/var/log)"
    [[ $(readlink "/proc/$p/ns/pid") == "$(readlink "/proc/$npid/ns/pid")" ]] ||
        die "node $n: $comm (pid $p) is not in the node's PID namespace"
    step "node $n: $comm running (pid $p, in the node's PID namespace)"
}

start_smtp() {
    local pidf=$LAB_RUN/smtp.pid
    if [[ -s $pidf ]] && kill -0 "$(<"$pidf")" 2>/dev/null; then return; fi
    mkdir -p "$LAB_DIR/mail"
    ip netns exec "$(netns_of lan)" setsid /usr/bin/python3 "$REPO/Tests/Fixtures/smtp_capture.py" --dir "$LAB_DIR/mail" \
        --host "$LAN_ADDR" --port "$SMTP_PORT" </dev/null >>"$LAB_DIR/smtp.log" 2>&1 &
    echo $! >"$pidf"
    step "smtp: listening on $LAN_ADDR:$SMTP_PORT (pid $!), mails in $LAB_DIR/mail"
}

configure_pacemaker() {
    # Both online in three polls in a row: right after the DC's election a node can show online once, then
    # pending again while it joins.
    local i seen=0
    for ((i = 0; i < 600 && seen < 3; i++)); do
        if in_node alpha crm_mon -1 2>/dev/null | grep -Eq 'Online: \[ (alpha bravo|bravo alpha) \]'; then
            seen=$((seen + 1))
        else
            seen=0
        fi
        sleep 0.2
    done
    ((seen >= 3)) || die "pacemaker: nodes not online after 120 s ($(in_node alpha crm_mon -1 2>&1 | grep -E 'Online|OFFLINE|pending' | tr -s ' \n' ' '))"
    step "pacemaker: alpha and bravo online"
    in_node alpha bash -c "LAB_DIR='$LAB_DIR' bash '$EXAMPLES/pacemaker/crm-configure.sh'" >>"$LAB_DIR/nodes/alpha/console.log" 2>&1 ||
        die "pacemaker: configuring the CIB failed (see $LAB_DIR/nodes/alpha/console.log)"
    step "pacemaker: resources configured (examples/cluster/pacemaker/crm-configure.sh)"
}

up() {
    local stack=${1:-}
    [[ $stack == heartbeat || $stack == pacemaker ]] || die "usage: lab.sh up heartbeat|pacemaker"
    if [[ -s $LAB_DIR/stack && $(<"$LAB_DIR/stack") != "$stack" ]]; then
        die "the $(<"$LAB_DIR/stack") lab is up; run 'make cluster-lab-down' first"
    fi
    ensure_cluster_packages
    # libvirtd resolves its default QEMU user before it reads qemu.conf (the testbed makes it too).
    getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
    getent passwd libvirt-qemu >/dev/null ||
        useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
    ensure_release_build
    "$REPO/testbed/guest/build-image.sh" --if-needed "$TESTBED_DIR/images"
    printf '#!/bin/sh\necho "refused inside a vmmanager lab node: $0 $*" >&2\nexit 1\n' >"$LAB_DIR/refuse"
    chmod 0755 "$LAB_DIR/refuse"
    echo "$stack" >"$LAB_DIR/stack"
    setup_network
    if [[ $stack == heartbeat ]]; then setup_loop_storage; else setup_shared_storage; fi
    local n
    for n in "${NODES[@]}"; do prepare_node "$n" "$stack"; done
    step "install: make install DESTDIR=$LAB_DIR/nodes/{alpha,bravo}/root"
    start_smtp
    for n in "${NODES[@]}"; do boot_node "$n"; done
    for n in "${NODES[@]}"; do start_stack "$n"; done
    [[ $stack == pacemaker ]] && configure_pacemaker
    step "lab up: $stack on ${NODES[*]}"
}

down() {
    local n ns dev
    for n in "${NODES[@]}"; do kill_node "$n"; done
    if [[ -s $LAB_RUN/smtp.pid ]]; then
        kill -TERM "$(<"$LAB_RUN/smtp.pid")" 2>/dev/null || true
        rm -f "$LAB_RUN/smtp.pid"
    fi
    if [[ -s $LAB_RUN/client.pid ]]; then
        kill -TERM "$(<"$LAB_RUN/client.pid")" 2>/dev/null || true
        rm -f "$LAB_RUN/client.pid"
    fi
    for n in "${NODES[@]}"; do
        if [[ -s $LAB_RUN/loop-$n ]]; then
            dev=$(<"$LAB_RUN/loop-$n")
            [[ $(losetup -n -O BACK-FILE "$dev" 2>/dev/null) == "$LAB_DIR/storage/vm-$n.img" ]] && losetup -d "$dev"
            rm -f "$LAB_RUN/loop-$n"
        fi
    done
    for n in "${NODES[@]}" client lan; do
        ns=$(netns_of "$n")
        [[ -e /run/netns/$ns ]] && ip netns del "$ns"
    done
    [[ -d $LAB_DIR ]] && rm -rf "$LAB_DIR"
    step "lab down: nodes killed, loop devices detached, namespaces and $LAB_DIR removed"
}

status() {
    local n pid
    [[ -s $LAB_DIR/stack ]] || { echo "no lab"; return 0; }
    echo "stack: $(<"$LAB_DIR/stack")"
    for n in "${NODES[@]}"; do
        if pid=$(node_pid "$n"); then
            echo "node $n: up (init pid $pid)"
            in_node "$n" virsh -q -c qemu:///system list --all 2>/dev/null | sed 's/^/    /'
            in_node "$n" virsh -q -c lxc:///system list --all 2>/dev/null | sed 's/^/    (lxc) /'
        else
            echo "node $n: down"
        fi
    done
}

cmd=${1:-}
shift || true
case $cmd in
    up) up "$@" ;;
    down) down ;;
    status) status ;;
    kill) kill_node "${1:?NODE}" ;;
    boot) boot_node "${1:?NODE}" ;;
    start-stack) start_stack "${1:?NODE}" ;;
    in) n=${1:?NODE}; shift; in_node "$n" "$@" ;;
    *) sed -n '2,15p' "$0" >&2; exit 64 ;;
esac
