#!/bin/bash
# Prints the libvirt domain XML of a testbed container (libvirt LXC).
#
#   domain-xml.sh NAME PORT
#
# An application container on the node's own root filesystem (read as the host's) and network: its init,
# a shell, prints the readiness line on its console and serves TCP PORT (an echo service) on the node's
# addresses, until SIGTERM (libvirt's shutdown of a container) ends it. Deliberately absent, as for the
# VMs: <uuid> (the software under test pins it).
set -euo pipefail

if [[ $# -ne 2 || ! $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ || ! $2 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 NAME PORT (NAME: letters, digits, . _ -)" >&2
    exit 2
fi
NAME=$1
PORT=$2

cat <<XML
<domain type='lxc'>
  <name>${NAME}</name>
  <memory unit='MiB'>64</memory>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>trap 'exit 0' TERM; busybox nc -ll -p ${PORT} -e /bin/cat &amp; echo VMMANAGER-GUEST-READY; while :; do sleep 1; done</initarg>
  </os>
  <vcpu>1</vcpu>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <console type='pty'/>
  </devices>
</domain>
XML
