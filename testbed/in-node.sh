#!/usr/bin/env bash
# Runs a command in its own PID namespace, as a cluster node would run a resource agent.
#
# The rule of this project: an agent's stop path (and any cluster daemon) never runs in the machine's
# own PID namespace. Inside a PID namespace a misbehaving stop path can only signal processes of
# that namespace, and reboot(2) only ends the namespace. libvirt is reached through its socket as usual.
#
# /proc is mounted anew for the namespace (--mount-proc): libdispatch (under Swift's concurrency runtime)
# reads /proc/<tid>/stat of its worker threads and crashes when the numbers are the host's, not the
# namespace's.
set -euo pipefail
exec unshare --pid --fork --kill-child --mount-proc -- "$@"
