#!/bin/bash
# Takes the vmmanager testbed down (idempotent; fine when nothing is up).
#
#   TESTBED_DIR=/var/lib/vmmanager-testbed testbed/down.sh
#
# On the nodes up.sh started: destroys and undefines (with their managed-save
# images) the test guests, i.e. names starting with tb-, demo- or it-.
# Stops node B's libvirtd and virtlogd by pid, removes netns vmm-nodeB and the
# veth pair, and stops node A's libvirtd/virtlogd only if up.sh started them.
# Everything else (other guests, a libvirtd up.sh did not start, images,
# configuration) is left alone.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_SCRIPT_NAME=down
# shellcheck source=lib.sh
source "$HERE/lib.sh"

[[ $(id -u) == 0 ]] || die "must run as root"
if [[ ! -d $TESTBED_DIR ]]; then
    step "nothing to do ($TESTBED_DIR does not exist)"
    exit 0
fi
mkdir -p "$RUN_DIR"
exec 9>"$RUN_DIR/lock"
flock -w 300 9 || die "another up.sh/down.sh holds $RUN_DIR/lock"

is_test_guest() { [[ $1 == tb-* || $1 == demo-* || $1 == it-* ]]; }

# remove_guest URI LABEL NAME
remove_guest() {
    local uri=$1 label=$2 n=$3
    timeout 60 virsh -q -c "$uri" destroy "$n" >/dev/null 2>&1 || true
    timeout 60 virsh -q -c "$uri" undefine --managed-save --snapshots-metadata --checkpoints-metadata "$n" \
        >/dev/null 2>&1 || true
    step "node $label: removed guest $n"
}

# clean_guests URI LABEL: destroys and undefines the test guests of one node
# (in parallel: a TCG qemu needs ~1.5 s to exit), then writes the names of the
# other guests still running to $RUN_DIR/left-LABEL.
clean_guests() {
    local uri=$1 label=$2 names n left
    : >"$RUN_DIR/left-$label"
    if ! names=$(timeout 30 virsh -q -c "$uri" list --all --name 2>/dev/null); then
        warn "node $label: cannot list guests"
        return 0
    fi
    for n in $names; do
        is_test_guest "$n" && remove_guest "$uri" "$label" "$n" &
    done
    wait
    left=$(timeout 30 virsh -q -c "$uri" list --name 2>/dev/null || true)
    left=$(tr -s "\n" " " <<<"$left")
    left=${left% }
    if [[ -n $left ]]; then
        warn "node $label: other guests keep running: $left"
        echo "$left" >"$RUN_DIR/left-$label"
    fi
}

# Which nodes did up.sh start?
b_pid=$(pid_of "$B_LIBVIRTD_PID" libvirtd || true)
a_pid=$(pid_of "$A_LIBVIRTD_PID" libvirtd || true)
[[ -n $b_pid ]] || rm -f "$B_LIBVIRTD_PID"
[[ -n $a_pid ]] || rm -f "$A_LIBVIRTD_PID"
rm -f "$RUN_DIR/left-A" "$RUN_DIR/left-B"

# 1. test guests, both nodes at once
if [[ -n $b_pid ]]; then
    if virsh_ok "$NODE_B_URI"; then
        clean_guests "$NODE_B_URI" B &
    else
        warn "node B: libvirtd (pid $b_pid) does not answer; guests not cleaned"
    fi
fi
if [[ -n $a_pid ]]; then
    if virsh_ok "$NODE_A_URI"; then
        clean_guests "$NODE_A_URI" A &
    else
        warn "node A: libvirtd (pid $a_pid) does not answer; guests not cleaned"
    fi
elif virsh_ok "$NODE_A_URI"; then
    step "node A: libvirtd was not started by up.sh; left alone (guests included)"
fi
wait

# 2. daemons, all at once. A virtlogd stays while guests of its node still run
#    (their serial console and log go through it).
to_stop=()
[[ -n $b_pid ]] && to_stop+=("$B_LIBVIRTD_PID" libvirtd)
[[ -n $a_pid ]] && to_stop+=("$A_LIBVIRTD_PID" libvirtd)
if [[ -s $RUN_DIR/left-B ]]; then
    warn "node B: virtlogd kept for the guests still running"
else
    to_stop+=("$B_VIRTLOGD_PID" virtlogd)
fi
if [[ -s $RUN_DIR/left-A ]]; then
    warn "node A: virtlogd kept for the guests still running"
else
    to_stop+=("$A_VIRTLOGD_PID" virtlogd)
fi
stop_pids 10 "${to_stop[@]}"
rm -f "$RUN_DIR/left-A" "$RUN_DIR/left-B"

# 3. node B's network
if ip link show "$VETH_A" >/dev/null 2>&1; then
    ip link del "$VETH_A"
    step "node B: removed veth $VETH_A"
fi
if netns_exists; then
    ip netns del "$NETNS"
    step "node B: removed netns $NETNS"
fi

rm -f "$TESTBED_DIR/testbed.env"
step "testbed down"
