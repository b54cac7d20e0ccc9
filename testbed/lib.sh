# Shared helpers of testbed/up.sh and testbed/down.sh (sourced, not run).
# shellcheck shell=bash

TESTBED_DIR=${TESTBED_DIR:-/var/lib/vmmanager-testbed}
TESTBED_DIR=${TESTBED_DIR%/}
RUN_DIR=$TESTBED_DIR/run
NB_DIR=$TESTBED_DIR/nodeB

NETNS=vmm-nodeB
VETH_A=vmm-a
VETH_B=vmm-b
ADDR_A=10.213.0.1
ADDR_B=10.213.0.2
NODE_A_URI=qemu:///system
NODE_B_URI="qemu+unix:///system?socket=$NB_DIR/run-libvirt/libvirt-sock"
# Node A's daemon as seen from inside node B (for --p2p migrations B -> A).
NODE_A_URI_FROM_B="qemu+unix:///system?socket=$NB_DIR/nodeA-run-libvirt/libvirt-sock"

A_LIBVIRTD_PID=$RUN_DIR/libvirtd.pid
A_VIRTLOGD_PID=$RUN_DIR/virtlogd.pid
B_LIBVIRTD_PID=$RUN_DIR/nodeB-libvirtd.pid
B_VIRTLOGD_PID=$RUN_DIR/nodeB-virtlogd.pid

_T0=${EPOCHREALTIME/[.,]/}
# step MESSAGE: prints the message with the wall time since the script started.
step() {
    local now=${EPOCHREALTIME/[.,]/}
    local ms=$(((now - _T0) / 1000))
    printf '[%s %3d.%03ds] %s\n' "${_SCRIPT_NAME:-testbed}" $((ms / 1000)) $((ms % 1000)) "$*"
}
warn() { step "WARNING: $*" >&2; }
die() {
    step "ERROR: $*" >&2
    exit 1
}

# pid_of PIDFILE EXPECTED_COMM: prints the pid if the file names a live process
# whose command name is EXPECTED_COMM (guards against pid reuse).
pid_of() {
    local file=$1 comm=$2 pid
    [[ -s $file ]] || return 1
    pid=""
    read -r pid <"$file" || true # libvirtd writes its pid file without a newline
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/comm ]] || return 1
    [[ $(</proc/"$pid"/comm) == "$comm" ]] || return 1
    echo "$pid"
}

# stop_pid PIDFILE COMM [TIMEOUT_S]: SIGTERM the process, SIGKILL after the timeout.
stop_pid() {
    local file=$1 comm=$2 timeout=${3:-10} pid i
    if pid=$(pid_of "$file" "$comm"); then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < timeout * 10; i++)); do
            [[ -d /proc/$pid ]] || break
            sleep 0.1
        done
        if [[ -d /proc/$pid ]]; then
            warn "$comm (pid $pid) ignored SIGTERM for ${timeout}s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
        step "stopped $comm (pid $pid)"
    fi
    rm -f "$file"
}

virsh_ok() { timeout 5 virsh -q -c "$1" version >/dev/null 2>&1; }

netns_exists() { [[ -e /run/netns/$NETNS ]]; }
