#!/bin/bash
# Brings the vmmanager real-VM testbed up (idempotent; ~1 s when all is up).
#
#   NODES=1|2 TESTBED_DIR=/var/lib/vmmanager-testbed testbed/up.sh
#
# Node A is this machine's own namespaces (qemu:///system). NODES=2 adds node B:
# its own network, mount and UTS namespaces with its own libvirtd, reachable
# from node A through a unix socket under $TESTBED_DIR/nodeB/run-libvirt.
# Writes $TESTBED_DIR/testbed.env for the tests. See testbed/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_SCRIPT_NAME=up
# shellcheck source=lib.sh
source "$HERE/lib.sh"

NODES=${NODES:-1}
[[ $NODES == 1 || $NODES == 2 ]] || die "NODES must be 1 or 2 (got '$NODES')"
[[ $(id -u) == 0 ]] || die "must run as root"

GUESTS=(tb-alpha tb-beta)
READY_MARKER=VMMANAGER-GUEST-READY

mkdir -p "$RUN_DIR" "$TESTBED_DIR"/{images,cache,console,guests,log}
exec 9>"$RUN_DIR/lock"
flock -w 300 9 || die "another up.sh/down.sh holds $RUN_DIR/lock"
step "NODES=$NODES TESTBED_DIR=$TESTBED_DIR"

# ---------------------------------------------------------------- packages

# ensure_conf FILE KEY VALUE: sets 'KEY = VALUE' in a libvirt-style config file.
ensure_conf() {
    local f=$1 k=$2 v=$3
    touch "$f"
    if grep -Eq "^[[:space:]]*${k}[[:space:]]*=" "$f"; then
        sed -i -E "s|^[[:space:]]*${k}[[:space:]]*=.*|$k = $v|" "$f"
    else
        printf '%s = %s\n' "$k" "$v" >>"$f"
    fi
}

configure_qemu_conf() {
    local f=$1
    ensure_conf "$f" user '"root"'
    ensure_conf "$f" group '"root"'
    ensure_conf "$f" dynamic_ownership 0
    ensure_conf "$f" remember_owner 0
    ensure_conf "$f" security_driver '"none"'
}

new_uuid() { cat /proc/sys/kernel/random/uuid; }

# ----------------------------------------------------------------- node A
start_node_a() {
    local pid
    if virsh_ok "$NODE_A_URI"; then
        if pid=$(pid_of "$A_LIBVIRTD_PID" libvirtd); then
            step "node A: libvirtd up (started by up.sh, pid $pid)"
            if ! pid_of "$A_VIRTLOGD_PID" virtlogd >/dev/null && ! pid_of /run/virtlogd.pid virtlogd >/dev/null; then
                virtlogd -d -p "$A_VIRTLOGD_PID" 9>&-
                warn "node A: virtlogd was gone; restarted it (pid $(<"$A_VIRTLOGD_PID"))"
            fi
        else
            step "node A: a libvirtd not started by up.sh answers on $NODE_A_URI; reusing it, not touching it"
        fi
        return
    fi
    if pid=$(pid_of "$A_LIBVIRTD_PID" libvirtd); then
        die "node A: our libvirtd (pid $pid) runs but does not answer within 5 s; run testbed/down.sh"
    fi

    step "node A: preparing dirs, user libvirt-qemu, qemu.conf, libvirtd.conf"
    mkdir -p /var/log/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /etc/libvirt
    getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
    if ! getent passwd libvirt-qemu >/dev/null; then
        local extra=()
        getent group kvm >/dev/null && extra=(-G kvm)
        # libvirtd resolves its default user before it reads qemu.conf.
        useradd -r -g libvirt-qemu "${extra[@]}" -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
    fi
    configure_qemu_conf /etc/libvirt/qemu.conf
    touch /etc/libvirt/libvirtd.conf
    if ! grep -Eq '^[[:space:]]*host_uuid[[:space:]]*=' /etc/libvirt/libvirtd.conf; then
        # Two libvirtds with the same host UUID refuse to migrate to each other.
        printf '# added by vmmanager testbed/up.sh (node B gets a different one)\nhost_uuid = "%s"\n' \
            "$(new_uuid)" >>/etc/libvirt/libvirtd.conf
    fi

    if pid=$(pid_of "$A_VIRTLOGD_PID" virtlogd); then
        step "node A: virtlogd up (started by up.sh, pid $pid)"
    elif pid=$(pid_of /run/virtlogd.pid virtlogd); then
        step "node A: reusing a virtlogd not started by up.sh (pid $pid)"
    else
        virtlogd -d -p "$A_VIRTLOGD_PID" 9>&-
        step "node A: started virtlogd (pid $(<"$A_VIRTLOGD_PID"))"
    fi
    rm -f "$A_LIBVIRTD_PID"
    # libvirtd runs in a mount namespace of its own without the hybrid cgroup2 mount /sys/fs/cgroup/unified,
    # with which libvirt's LXC driver cannot start containers; every other mount is the machine's, and the
    # machine's own namespace keeps its unified mount.
    setsid unshare --mount --propagation private -- /bin/sh -c \
        'if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi; exec tini -s -- libvirtd -p "$1"' \
        sh "$A_LIBVIRTD_PID" </dev/null >>/var/log/libvirt/libvirtd.log 2>&1 9>&- &
    local launcher=$! i
    for ((i = 0; i < 300; i++)); do
        virsh_ok "$NODE_A_URI" && break
        if ! kill -0 "$launcher" 2>/dev/null; then
            tail -n 20 /var/log/libvirt/libvirtd.log >&2 || true
            die "node A: libvirtd exited (log: /var/log/libvirt/libvirtd.log)"
        fi
        sleep 0.1
    done
    virsh_ok "$NODE_A_URI" || die "node A: libvirtd does not answer (see /var/log/libvirt/libvirtd.log)"
    step "node A: started libvirtd (pid $(<"$A_LIBVIRTD_PID")), answering on $NODE_A_URI"
}

# ------------------------------------------------------------ guest image
build_image() {
    local out
    if ! out=$("$HERE/guest/build-image.sh" --if-needed "$TESTBED_DIR/images" 2>&1); then
        printf '%s\n' "$out" >&2
        die "guest image build failed"
    fi
    if [[ -n $out ]]; then
        printf '%s\n' "$out" | sed 's/^/    /'
        step "image: built $TESTBED_DIR/images/{vmlinuz,initrd.img}"
    else
        step "image: up to date"
    fi
}

write_if_changed() { # write_if_changed FILE (content on stdin)
    local f=$1 tmp
    tmp=$(mktemp "$f.XXXXXX")
    cat >"$tmp"
    if [[ -f $f ]] && cmp -s "$tmp" "$f"; then
        rm -f "$tmp"
    else
        chmod 0644 "$tmp"
        mv -f "$tmp" "$f"
    fi
}

write_guest_xmls() {
    local g
    for g in "${GUESTS[@]}"; do
        "$HERE/guest/domain-xml.sh" "$g" "$TESTBED_DIR" | write_if_changed "$TESTBED_DIR/guests/$g.xml"
    done
    step "guests: ${GUESTS[*]} XML in $TESTBED_DIR/guests/ (not defined)"
}

# ----------------------------------------------------------------- node B
ensure_netns_and_veth() {
    if ! netns_exists; then
        ip netns add "$NETNS"
        step "node B: created netns $NETNS"
    fi
    if ip link show "$VETH_A" >/dev/null 2>&1 && ! ip -n "$NETNS" link show "$VETH_B" >/dev/null 2>&1; then
        ip link del "$VETH_A" # stale half of an old pair
    fi
    if ! ip link show "$VETH_A" >/dev/null 2>&1; then
        ip link add "$VETH_A" type veth peer name "$VETH_B" netns "$NETNS"
        step "node B: created veth $VETH_A <-> $NETNS/$VETH_B"
    fi
    ip addr replace "$ADDR_A/24" dev "$VETH_A"
    ip link set "$VETH_A" up
    ip -n "$NETNS" addr replace "$ADDR_B/24" dev "$VETH_B"
    ip -n "$NETNS" link set "$VETH_B" up
    ip -n "$NETNS" link set lo up
}

node_a_host_uuid() {
    virsh -c "$NODE_A_URI" capabilities 2>/dev/null | sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' | head -n1
}

start_node_b() {
    local pid
    ensure_netns_and_veth
    if pid=$(pid_of "$B_LIBVIRTD_PID" libvirtd); then
        if virsh_ok "$NODE_B_URI"; then
            step "node B: libvirtd up (pid $pid), answering on $NODE_B_URI"
            if ! pid_of "$B_VIRTLOGD_PID" virtlogd >/dev/null; then
                # Start it inside node B's namespaces (those of its libvirtd).
                nsenter -t "$pid" -m -u -n virtlogd -d -p "$B_VIRTLOGD_PID" 9>&-
                warn "node B: virtlogd was gone; restarted it (pid $(<"$B_VIRTLOGD_PID"))"
            fi
            return
        fi
        warn "node B: libvirtd (pid $pid) does not answer; restarting it"
        stop_pid "$B_LIBVIRTD_PID" libvirtd
    fi
    # A virtlogd of an earlier node B libvirtd is reused by node-b-init.sh: it
    # serves the same dirs, and guests still running on node B log through it.

    mkdir -p "$NB_DIR"/{run-libvirt,var-lib-libvirt,var-log-libvirt,var-cache-libvirt,etc-libvirt,nodeA-run-libvirt}
    mkdir -p /var/log/libvirt /var/lib/libvirt /var/cache/libvirt /etc/libvirt /run/libvirt
    # Seed node B's /etc/libvirt from node A's config files (not A's domain definitions).
    local f
    for f in /etc/libvirt/*.conf; do
        [[ -f $f ]] && cp -f "$f" "$NB_DIR/etc-libvirt/"
    done
    configure_qemu_conf "$NB_DIR/etc-libvirt/qemu.conf"
    local a_uuid b_uuid=""
    a_uuid=$(node_a_host_uuid || true)
    [[ -s $NB_DIR/host_uuid ]] && b_uuid=$(<"$NB_DIR/host_uuid")
    if [[ -z $b_uuid || $b_uuid == "$a_uuid" ]]; then
        b_uuid=$(new_uuid)
        echo "$b_uuid" >"$NB_DIR/host_uuid"
    fi
    ensure_conf "$NB_DIR/etc-libvirt/libvirtd.conf" host_uuid "\"$b_uuid\""
    rm -f "$NB_DIR/run-libvirt/libvirt-sock" "$NB_DIR/run-libvirt/libvirt-sock-ro" \
        "$NB_DIR/run-libvirt/libvirt-admin-sock" "$B_LIBVIRTD_PID"

    setsid ip netns exec "$NETNS" unshare --mount --uts --propagation private \
        "$HERE/node-b-init.sh" "$TESTBED_DIR" \
        </dev/null >>"$TESTBED_DIR/log/nodeB-libvirtd.log" 2>&1 9>&- &
    local launcher=$! i
    for ((i = 0; i < 300; i++)); do
        virsh_ok "$NODE_B_URI" && break
        if ! kill -0 "$launcher" 2>/dev/null; then
            tail -n 20 "$TESTBED_DIR/log/nodeB-libvirtd.log" >&2 || true
            die "node B: init exited (log: $TESTBED_DIR/log/nodeB-libvirtd.log)"
        fi
        sleep 0.1
    done
    virsh_ok "$NODE_B_URI" || die "node B: libvirtd does not answer (log: $TESTBED_DIR/log/nodeB-libvirtd.log)"
    step "node B: started libvirtd (pid $(<"$B_LIBVIRTD_PID"), host_uuid $b_uuid), answering on $NODE_B_URI"
}

# --------------------------------------------------------------- env file
write_env() {
    local host
    host=$(</proc/sys/kernel/hostname)
    {
        echo "# vmmanager testbed, written by testbed/up.sh. KEY=VALUE lines, no quotes."
        echo "TESTBED_DIR=$TESTBED_DIR"
        echo "NODES=$NODES"
        echo "NODE_A_URI=$NODE_A_URI"
        echo "# Node A's libvirtd also runs containers (libvirt LXC)."
        echo "NODE_A_LXC_URI=lxc:///system"
        echo "NODE_A_NAME=$host"
        if [[ $NODES == 2 ]]; then
            echo "NODE_A_ADDR=$ADDR_A"
            echo "# For migrations B -> A. No port needed: the destination libvirtd picks a free one (49152-49215)."
            echo "NODE_A_MIGRATE_URI=tcp:$ADDR_A"
            echo "# Node A's daemon as seen from inside node B (dconnuri for --p2p migrations B -> A)."
            echo "NODE_A_URI_FROM_B=$NODE_A_URI_FROM_B"
            echo "NODE_B_URI=$NODE_B_URI"
            echo "NODE_B_NAME=nodeB"
            echo "NODE_B_ADDR=$ADDR_B"
            echo "# No port needed: the destination libvirtd picks a free one (49152-49215); tcp:$ADDR_B:49152 works too."
            echo "NODE_B_MIGRATE_URI=tcp:$ADDR_B"
            echo "# Node B's libvirtd also runs containers (libvirt LXC): the same daemon through its LXC driver."
            echo "NODE_B_LXC_URI=${NODE_B_URI/#qemu+unix/lxc+unix}"
        fi
        echo "KERNEL=$TESTBED_DIR/images/vmlinuz"
        echo "INITRD=$TESTBED_DIR/images/initrd.img"
        echo "GUESTS_DIR=$TESTBED_DIR/guests"
        echo "CONSOLE_DIR=$TESTBED_DIR/console"
        echo "DOMAIN_XML_SCRIPT=$HERE/guest/domain-xml.sh"
        echo "CONTAINER_XML_SCRIPT=$HERE/container/domain-xml.sh"
        echo "READY_MARKER=$READY_MARKER"
    } | write_if_changed "$TESTBED_DIR/testbed.env"
    step "env: $TESTBED_DIR/testbed.env"
}

ensure_packages
start_node_a
build_image
write_guest_xmls
if [[ $NODES == 2 ]]; then
    start_node_b
elif pid=$(pid_of "$B_LIBVIRTD_PID" libvirtd); then
    warn "node B is still running (pid $pid) although NODES=1; testbed/down.sh stops it"
fi
write_env
step "testbed up"
