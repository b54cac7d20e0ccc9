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

# clean_guests URI LABEL: destroys and undefines the test guests on one node.
# Prints nothing else; returns 0. Sets LEFT_RUNNING to the other running guests.
LEFT_RUNNING=""
clean_guests() {
    local uri=$1 label=$2 names n
    LEFT_RUNNING=""
    if ! names=$(timeout 30 virsh -q -c "$uri" list --all --name 2>/dev/null); then
        warn "node $label: cannot list guests"
        return 0
    fi
    for n in $names; do
        is_test_guest "$n" || continue
        timeout 60 virsh -q -c "$uri" destroy "$n" >/dev/null 2>&1 || true
        timeout 60 virsh -q -c "$uri" undefine --managed-save --snapshots-metadata --checkpoints-metadata "$n" \
            >/dev/null 2>&1 || true
        step "node $label: removed guest $n"
    done
    LEFT_RUNNING=$(timeout 30 virsh -q -c "$uri" list --name 2>/dev/null | tr '\n' ' ' || true)
    LEFT_RUNNING=${LEFT_RUNNING%% }
    LEFT_RUNNING=${LEFT_RUNNING## }
    if [[ -n ${LEFT_RUNNING// /} ]]; then
        warn "node $label: other guests keep running: $LEFT_RUNNING"
    fi
}

# ----------------------------------------------------------------- node B
if pid=$(pid_of "$B_LIBVIRTD_PID" libvirtd); then
    if virsh_ok "$NODE_B_URI"; then
        clean_guests "$NODE_B_URI" B
    else
        warn "node B: libvirtd (pid $pid) does not answer; guests not cleaned"
    fi
    stop_pid "$B_LIBVIRTD_PID" libvirtd
else
    rm -f "$B_LIBVIRTD_PID"
fi
if [[ -z ${LEFT_RUNNING// /} ]]; then
    stop_pid "$B_VIRTLOGD_PID" virtlogd
else
    warn "node B: virtlogd kept for the guests still running"
fi
if ip link show "$VETH_A" >/dev/null 2>&1; then
    ip link del "$VETH_A"
    step "node B: removed veth $VETH_A"
fi
if netns_exists; then
    ip netns del "$NETNS"
    step "node B: removed netns $NETNS"
fi

# ----------------------------------------------------------------- node A
LEFT_RUNNING=""
if pid=$(pid_of "$A_LIBVIRTD_PID" libvirtd); then
    if virsh_ok "$NODE_A_URI"; then
        clean_guests "$NODE_A_URI" A
    else
        warn "node A: libvirtd (pid $pid) does not answer; guests not cleaned"
    fi
    stop_pid "$A_LIBVIRTD_PID" libvirtd
else
    rm -f "$A_LIBVIRTD_PID"
    if virsh_ok "$NODE_A_URI"; then
        step "node A: libvirtd was not started by up.sh; left alone (guests included)"
    fi
fi
if [[ -z ${LEFT_RUNNING// /} ]]; then
    stop_pid "$A_VIRTLOGD_PID" virtlogd
else
    warn "node A: virtlogd kept for the guests still running"
fi

rm -f "$TESTBED_DIR/testbed.env"
step "testbed down"
