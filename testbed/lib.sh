# Shared helpers of testbed/up.sh and testbed/down.sh (sourced, not run).
# shellcheck shell=bash

# shellcheck disable=SC2034 # the names below are used by up.sh and down.sh
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
    alive "$pid" || return 1
    echo "$pid"
}

# alive PID: the process exists and is not a zombie (an orphaned daemon that
# died stays a zombie until PID 1 reaps it). A multithreaded daemon whose main
# thread has exited shows Z too while its other threads still run (libvirtd
# and virtlogd do that for ~2 s after SIGTERM): that still counts as alive.
alive() {
    local st tasks
    { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
    st=${st##*) }
    [[ ${st%% *} != Z ]] && return 0
    tasks=("/proc/$1/task"/*)
    ((${#tasks[@]} > 1))
}

# stop_pids TIMEOUT_S PIDFILE COMM [PIDFILE COMM ...]: SIGTERM all those
# processes at once (libvirtd and virtlogd take ~2 s each to exit), SIGKILL
# whatever is left after the timeout, remove the pid files.
stop_pids() {
    local timeout=$1 pid i
    shift
    local -a pids=() comms=()
    while (($# >= 2)); do
        if pid=$(pid_of "$1" "$2"); then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
            comms+=("$2")
        fi
        rm -f "$1"
        shift 2
    done
    for ((i = 0; i < ${#pids[@]}; i++)); do
        local t
        for ((t = 0; t < timeout * 20; t++)); do
            alive "${pids[i]}" || break
            sleep 0.05
        done
        if alive "${pids[i]}"; then
            warn "${comms[i]} (pid ${pids[i]}) ignored SIGTERM for ${timeout}s; SIGKILL"
            kill -KILL "${pids[i]}" 2>/dev/null || true
            sleep 0.2
        fi
        step "stopped ${comms[i]} (pid ${pids[i]})"
    done
}
stop_pid() { stop_pids "${3:-10}" "$1" "$2"; }

virsh_ok() { timeout 5 virsh -q -c "$1" version >/dev/null 2>&1; }

netns_exists() { [[ -e /run/netns/$NETNS ]]; }

# Debian packages the project needs: the C libraries it links (libvirt, libxml2, libcurl) and
# what the testbed runs.
# tini: libvirtd runs under "tini -s" (a child subreaper) so that the qemu
# processes it daemonizes are reaped at once when they exit. Otherwise they are
# reparented to PID 1, and a PID 1 that reaps lazily (the one of these machines
# reaps every ~2 s) makes every "virsh destroy" take ~2 s.
# libvirt-daemon-driver-lxc: node B's libvirtd also runs containers (libvirt LXC), see node-b-init.sh.
PACKAGES=(libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-driver-lxc libvirt-clients
    qemu-system-x86 qemu-utils busybox-static qemu-guest-agent cpio iproute2 kmod xz-utils tini
    libxml2-dev libcurl4-openssl-dev pkg-config
    resource-agents libxml2-utils
    python3-aiosmtpd openssl)

# ensure_packages: installs whatever of PACKAGES is missing (apt-get update only when needed).
ensure_packages() {
    local -A ok=()
    local p st missing=()
    while read -r p st; do
        [[ $st == ii ]] && ok[$p]=1
    done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
    for p in "${PACKAGES[@]}"; do
        [[ -n ${ok[$p]:-} ]] || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        step "packages: all ${#PACKAGES[@]} present"
        return
    fi
    step "packages: installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    step "packages: installed"
}
