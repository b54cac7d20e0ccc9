#!/usr/bin/env bash
# `make bench`: every figure in one run, written to docs/benchmarks.md (and shown).
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/benchmarks.md
tmp=$(mktemp)
{
    echo "# Benchmarks"
    echo
    echo "Written by \`make bench\` (bench/run.sh); do not edit by hand. Medians; wall = elapsed time of the"
    echo "whole command (process start included, as Pacemaker runs an agent afresh at every interval),"
    echo "CPU = user + system time of the process tree."
    echo
    echo "## Resource agent: vmmanager vs VirtualDomain vs virsh"
    echo
    python3 bench/agent_bench.py
    if [[ -x bench/notifier.sh ]]; then
        echo
        echo "## Notifier"
        echo
        bash bench/notifier.sh
    fi
} >"$tmp"
mv "$tmp" "$out"
cat "$out"
