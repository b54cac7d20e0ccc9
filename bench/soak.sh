#!/usr/bin/env bash
# `make soak`: many guests, the agent's monitor of all of them in a loop while guests are started,
# stopped (saved) and live-migrated between the testbed's two nodes, with `vmctl watch` running; checks
# every monitor answer against what the guest's state must be, and samples vmctl watch's RSS.
#
#   SOAK_SECONDS=600 SOAK_GUESTS=10 bash bench/soak.sh
#
# Needs the testbed (make testbed NODES=2) and a debug build (swift build). Everything it creates is
# named soak-* and removed at the end. Prints a summary; exit 1 on any wrong answer or failed action.
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL=${SOAK_SECONDS:-600}
GUESTS=${SOAK_GUESTS:-10}
BIN=${BIN:-.build/debug}
ENV_FILE=${TESTBED_DIR:-/var/lib/vmmanager-testbed}/testbed.env
[[ -r $ENV_FILE ]] || { echo "soak: no testbed ($ENV_FILE); run make testbed NODES=2" >&2; exit 2; }
# shellcheck disable=SC1090
source <(grep -E '^[A-Z_]+=' "$ENV_FILE" | sed 's/^/export /')
work=$(mktemp -d /tmp/vmm-soak.XXXXXX)
mkdir -p "$work"/{A,B,shared}
for n in A B; do
    uri=$NODE_A_URI; [[ $n == B ]] && uri=$NODE_B_URI
    cat >"$work/$n/vmmanager.conf" <<EOF
[global]
hypervisor = $uri
state_dir = $work/$n/state
lock_dir = $work/$n/locks
quarantine_dir = $work/$n/quarantine
remoteuri = $([[ $n == A ]] && echo "$NODE_B_URI" || echo "$NODE_A_URI")
migrateuri = $([[ $n == A ]] && echo "$NODE_B_MIGRATE_URI" || echo "$NODE_A_MIGRATE_URI")
[notify]
spool_dir = $work/$n/spool
mail_to = soak@example.org
smtp_url = smtp://127.0.0.1:9
smtp_starttls = no
EOF
done

names=()
for i in $(seq 1 "$GUESTS"); do
    name=soak-$i
    names+=("$name")
    mkdir -p "$work/shared/$name"
    bash testbed/guest/domain-xml.sh "$name" >"$work/shared/$name/$name.xml"
done

ocf() {  # ocf NODE ACTION GUEST [extra env...]
    local node=$1 action=$2 name=$3
    shift 3
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE="$name" \
        OCF_RESKEY_config="$work/shared/$name/$name.xml" OCF_RESKEY_conf_file="$work/$node/vmmanager.conf" \
        OCF_RESKEY_CRM_meta_timeout=90000 "$@" \
        bash testbed/in-node.sh "$BIN/vmmanager" "$action" 2>>"$work/agent.log"
}

cleanup() {
    [[ -n ${watch_pid:-} ]] && kill "$watch_pid" 2>/dev/null
    for name in "${names[@]}"; do
        for uri in "$NODE_A_URI" "$NODE_B_URI"; do
            virsh -q -c "$uri" destroy "$name" >/dev/null 2>&1
            virsh -q -c "$uri" undefine "$name" --managed-save >/dev/null 2>&1
        done
    done
    rm -rf "$work"
}
trap cleanup EXIT

"$BIN/vmctl" watch --connect "$NODE_A_URI" --config "$work/A/vmmanager.conf" --flush-interval 30 \
    2>"$work/watch.log" &
watch_pid=$!

declare -A where  # guest -> A, B or "" (stopped)
failures=0
echo "soak: starting $GUESTS guests on node A"
for name in "${names[@]}"; do
    if ocf A start "$name"; then where[$name]=A; else echo "soak: start $name failed" >&2; failures=$((failures + 1)); where[$name]=; fi
done

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$watch_pid/status" 2>/dev/null; }
rss_first=$(rss)
rss_samples=("$rss_first")
monitors=0 wrong=0 actions=0 started=$(date +%s) last_sample=$started
declare -A counts=([start]=0 [stop]=0 [migrate]=0)
while (( $(date +%s) - started < SECONDS_TOTAL )); do
    # Monitor every guest on both nodes: it must be 0 where it runs and 7 elsewhere.
    for name in "${names[@]}"; do
        for node in A B; do
            ocf "$node" monitor "$name" OCF_RESKEY_CRM_meta_interval=10000
            rc=$?
            want=7; [[ ${where[$name]} == "$node" ]] && want=0
            monitors=$((monitors + 1))
            if [[ $rc != "$want" ]]; then
                wrong=$((wrong + 1))
                echo "soak: WRONG monitor $name on $node: $rc, expected $want" >&2
            fi
        done
    done
    # One action on a random guest.
    name=${names[RANDOM % GUESTS]}
    node=${where[$name]}
    if [[ -z $node ]]; then
        target=$([[ $((RANDOM % 2)) == 0 ]] && echo A || echo B)
        if ocf "$target" start "$name"; then where[$name]=$target; counts[start]=$((counts[start] + 1))
        else echo "soak: start $name on $target failed" >&2; failures=$((failures + 1)); fi
    elif (( RANDOM % 2 == 0 )); then
        if ocf "$node" stop "$name"; then where[$name]=; counts[stop]=$((counts[stop] + 1))
        else echo "soak: stop $name on $node failed" >&2; failures=$((failures + 1)); fi
    else
        other=$([[ $node == A ]] && echo B || echo A)
        target_name=$([[ $other == B ]] && echo "$NODE_B_NAME" || echo "$NODE_A_NAME")
        if ocf "$node" migrate_to "$name" OCF_RESKEY_CRM_meta_migrate_target="$target_name" &&
            ocf "$other" migrate_from "$name"; then
            where[$name]=$other; counts[migrate]=$((counts[migrate] + 1))
        else echo "soak: migrate $name $node -> $other failed" >&2; failures=$((failures + 1)); fi
    fi
    actions=$((actions + 1))
    now=$(date +%s)
    if (( now - last_sample >= 30 )); then rss_samples+=("$(rss)"); last_sample=$now; fi
done
rss_last=$(rss)
rss_max=$(printf '%s\n' "${rss_samples[@]}" "$rss_last" | sort -n | tail -n1)
elapsed=$(( $(date +%s) - started ))
echo "soak: $elapsed s, $GUESTS guests, $monitors monitors ($wrong wrong), $actions actions" \
    "(${counts[start]} starts, ${counts[stop]} stops, ${counts[migrate]} migrations, $failures failed)"
echo "soak: vmctl watch RSS: ${rss_first} KiB at start, ${rss_last} KiB at the end, ${rss_max} KiB at most" \
    "(${#rss_samples[@]} samples)"
kill -0 "$watch_pid" 2>/dev/null || { echo "soak: vmctl watch died" >&2; failures=$((failures + 1)); }
(( wrong == 0 && failures == 0 ))
