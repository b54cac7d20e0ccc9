#!/bin/bash
# Smoke test of a running testbed (testbed/up.sh first), with timings:
# define, start -> guest agent ping -> readiness marker, uptime via guest-exec,
# managed save + restore (uptime must continue), and with NODES=2 live
# migrations A -> B -> A, plain and --p2p, with the downtime libvirt reports.
# Removes its guest at the end.
#
#   testbed/smoke.sh [GUEST]      (GUEST defaults to tb-smoke)
set -euo pipefail

GUEST=${1:-tb-smoke}
TESTBED_DIR=${TESTBED_DIR:-/var/lib/vmmanager-testbed}
ENV_FILE=$TESTBED_DIR/testbed.env
[[ -r $ENV_FILE ]] || { echo "smoke: $ENV_FILE missing; run testbed/up.sh" >&2; exit 1; }
while IFS= read -r line; do
    [[ $line == \#* || $line != *=* ]] && continue
    printf -v "T_${line%%=*}" '%s' "${line#*=}"
done <"$ENV_FILE"
A=$T_NODE_A_URI
B=${T_NODE_B_URI:-}

_T0=${EPOCHREALTIME/[.,]/}
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
secs() { local d=$(($(now_us) - $1)); printf '%d.%03d' $((d / 1000000)) $((d % 1000000 / 1000)); }
step() { printf '[smoke %7s] %s\n' "$(secs "$_T0")" "$*"; }
fail() { step "FAIL: $*" >&2; exit 1; }

cleanup() {
    local uri
    for uri in "$A" ${B:+"$B"}; do
        virsh -q -c "$uri" destroy "$GUEST" >/dev/null 2>&1 || true
        virsh -q -c "$uri" undefine --managed-save "$GUEST" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT

agent_ping() { virsh -q -c "$1" qemu-agent-command "$GUEST" '{"execute":"guest-ping"}' >/dev/null 2>&1; }
wait_agent() { # wait_agent URI TIMEOUT_S
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        agent_ping "$1" && return 0
        sleep 0.05
    done
    return 1
}
guest_uptime() { # guest_uptime URI -> seconds since guest boot (guest-exec /bin/cat /proc/uptime)
    local uri=$1 out pid i data
    out=$(virsh -q -c "$uri" qemu-agent-command "$GUEST" \
        '{"execute":"guest-exec","arguments":{"path":"/bin/cat","arg":["/proc/uptime"],"capture-output":true}}')
    pid=$(sed -n 's/.*"pid":[[:space:]]*\([0-9]*\).*/\1/p' <<<"$out")
    [[ -n $pid ]] || fail "guest-exec: $out"
    for ((i = 0; i < 100; i++)); do
        out=$(virsh -q -c "$uri" qemu-agent-command "$GUEST" \
            "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}")
        if [[ $out == *'"exited":true'* ]]; then
            data=$(sed -n 's/.*"out-data":[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$out" | base64 -d)
            echo "${data%% *}"
            return 0
        fi
        sleep 0.05
    done
    fail "guest-exec-status never reported exited: $out"
}
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
downtime() { # downtime URI -> "Total downtime" of the last incoming migration
    virsh -q -c "$1" domjobinfo "$GUEST" --completed --keep-completed 2>/dev/null |
        awk -F: '/^Total downtime/ { gsub(/ +/, " ", $2); sub(/^ /, "", $2); print $2 }'
}

for uri in "$A" ${B:+"$B"}; do
    if virsh -q -c "$uri" dominfo "$GUEST" >/dev/null 2>&1; then
        fail "$GUEST already exists on $uri; pick another name"
    fi
done
xml=$T_GUESTS_DIR/$GUEST.xml
if [[ -r $xml ]]; then
    virsh -q -c "$A" define "$xml" >/dev/null
else
    "$T_DOMAIN_XML_SCRIPT" "$GUEST" "$T_TESTBED_DIR" | virsh -q -c "$A" define /dev/stdin >/dev/null
fi
step "defined $GUEST on node A"

console=$T_CONSOLE_DIR/$GUEST.log
markers_before=$(grep -c "$T_READY_MARKER" "$console" 2>/dev/null || true)
t=$(now_us)
virsh -q -c "$A" start "$GUEST" >/dev/null
step "virsh start: $(secs "$t") s"
wait_agent "$A" 60 || fail "guest agent did not answer within 60 s"
step "start -> guest-ping answers: $(secs "$t") s"
for ((i = 0; i < 200; i++)); do
    (($(grep -c "$T_READY_MARKER" "$console" 2>/dev/null || true) > ${markers_before:-0})) && break
    sleep 0.05
done
(($(grep -c "$T_READY_MARKER" "$console" 2>/dev/null || true) > ${markers_before:-0})) ||
    fail "no $T_READY_MARKER line in $console"
step "start -> $T_READY_MARKER in $console: $(secs "$t") s"
up1=$(guest_uptime "$A")
step "guest uptime $up1 s (guest-exec /bin/cat /proc/uptime)"

t=$(now_us)
virsh -q -c "$A" managedsave "$GUEST" >/dev/null
step "virsh managedsave: $(secs "$t") s ($(virsh -q -c "$A" domstate "$GUEST" --reason))"
t=$(now_us)
virsh -q -c "$A" start "$GUEST" >/dev/null
step "virsh start from managed save: $(secs "$t") s"
wait_agent "$A" 30 || fail "guest agent did not answer after restore"
step "restore -> guest-ping answers: $(secs "$t") s"
up2=$(guest_uptime "$A")
gt "$up2" "$up1" || fail "uptime went from $up1 to $up2: the guest rebooted"
step "guest uptime $up2 s (continued)"

if [[ ${T_NODES:-1} == 2 ]]; then
    migrate() { # migrate LABEL SRC DST_URI_FOR_VIRSH MIGRATE_URI PEER_CHECK_URI [virsh flags]
        local label=$1 src=$2 dst=$3 muri=$4 check=$5 t
        shift 5
        t=$(now_us)
        virsh -q -c "$src" migrate --live --persistent --undefinesource "$@" "$GUEST" "$dst" "$muri"
        local took
        took=$(secs "$t")
        virsh -q -c "$check" domstate "$GUEST" | grep -q running || fail "$label: not running on the destination"
        if virsh -q -c "$src" dominfo "$GUEST" >/dev/null 2>&1; then fail "$label: still defined on the source"; fi
        agent_ping "$check" || wait_agent "$check" 10 || fail "$label: guest agent does not answer on the destination"
        local up
        up=$(guest_uptime "$check")
        step "migrate $label: $took s, downtime $(downtime "$check"), agent answers, uptime $up s"
    }
    migrate "A -> B" "$A" "$B" "$T_NODE_B_MIGRATE_URI" "$B"
    migrate "B -> A" "$B" "$A" "$T_NODE_A_MIGRATE_URI" "$A"
    migrate "A -> B --p2p" "$A" "$B" "$T_NODE_B_MIGRATE_URI" "$B" --p2p
    migrate "B -> A --p2p" "$B" "$T_NODE_A_URI_FROM_B" "$T_NODE_A_MIGRATE_URI" "$A" --p2p
fi

t=$(now_us)
cleanup
step "destroy + undefine: $(secs "$t") s"
step "OK"
