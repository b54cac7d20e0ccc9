#!/usr/bin/env bash
# The monitor through `vmctl watch` (its monitor server) against the full agent and virsh, as the section
# "Monitor through vmctl watch" of docs/benchmarks.md (bench/run.sh calls it). Needs hyperfine and the release
# build. URI (default test:///default) and GUEST (default test, the test driver's running guest) say what is
# monitored; a private lock_dir keeps watch's socket out of the node's /run/vmmanager.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release
URI=${URI:-test:///default}
GUEST=${GUEST:-test}
RUNS=${RUNS:-200}
scratch=$(mktemp -d)
trap 'kill "$watch" 2>/dev/null || true; wait "$watch" 2>/dev/null || true; rm -rf "$scratch"' EXIT
mkdir -p "$scratch/locks"
printf '[global]\nlock_dir = %s/locks\nstate_dir = %s/state\n[notify]\nspool_dir = %s/spool\n' \
    "$scratch" "$scratch" "$scratch" >"$scratch/vmmanager.conf"
"$bin/vmctl" watch --connect "$URI" --config "$scratch/vmmanager.conf" 2>"$scratch/watch.log" &
watch=$!
for _ in $(seq 50); do [[ -S $scratch/locks/monitor.sock ]] && break; sleep 0.1; done
export OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=bench OCF_RESKEY_domain=$GUEST OCF_RESKEY_hypervisor=$URI \
    OCF_RESKEY_conf_file=$scratch/vmmanager.conf OCF_RESKEY_CRM_meta_timeout=20000 OCF_RESKEY_CRM_meta_interval=10000
[[ $(VMMANAGER_TRACE=1 "$bin/vmmanager" monitor 2>&1) == *"answered by vmctl watch"* ]] ||
    { echo "monitor_watch.sh: vmctl watch did not answer" >&2; exit 1; }
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$scratch/h.json" \
    -n "vmmanager monitor (front, answered by vmctl watch)" "$bin/vmmanager monitor" \
    -n "vmmanager-agent monitor (full agent)" "$bin/vmmanager-agent monitor" \
    -n "virsh domstate" "virsh -c $URI domstate $GUEST" >/dev/null
# What the server spends per monitor, in watch's process: its CPU time over RUNS monitors through the front.
cpu_of_watch() { awk '{ print $14 + $15 }' "/proc/$watch/stat"; }
before=$(cpu_of_watch)
for _ in $(seq "$RUNS"); do "$bin/vmmanager" monitor; done
after=$(cpu_of_watch)
server_ms=$(awk -v b="$before" -v a="$after" -v n="$RUNS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (a - b) * 1000 / hz / n }')
# Without watch: the front falls back to the full agent (what a node without vmctl watch pays).
kill "$watch"; wait "$watch" 2>/dev/null || true
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$scratch/f.json" \
    -n "vmmanager monitor (front, no vmctl watch: runs the full agent)" "$bin/vmmanager monitor" >/dev/null
echo "Run on $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, $RUNS runs each (hyperfine -N), guest '$GUEST' on $URI,"
echo "release build (static Swift runtime). Wall: median; CPU: mean user + system of the command's process."
echo
echo "| command | wall ms (median) | CPU ms (user + sys) |"
echo "|---|---:|---:|"
python3 - "$scratch/h.json" "$scratch/f.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"] + json.load(open(sys.argv[2]))["results"]:
    print(f"| {r['command']} | {r['median'] * 1000:.1f} | {(r['user'] + r['system']) * 1000:.1f} |")
PY
echo
echo "The front's CPU above is its own process; vmctl watch spent $server_ms ms of CPU per monitor it answered"
echo "(its utime + stime over $RUNS monitors). The full agent's figure includes opening its libvirt connection; the"
echo "server keeps one open connection for its monitors, and each monitor still asks libvirt (nothing is cached)."
