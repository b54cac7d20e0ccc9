#!/bin/bash
# Prints the libvirt domain XML of a testbed guest.
#
#   domain-xml.sh NAME [DIR]
#
# DIR is the testbed directory (default: $TESTBED_DIR, else /var/lib/vmmanager-testbed);
# the kernel and initrd come from DIR/images, the serial console is appended to
# DIR/console/NAME.log (the same path on both nodes: "shared storage").
#
# Deliberately absent: <uuid> and the interface's <mac> (the software under
# test pins them), disks (diskless guests migrate without --unsafe), and a
# source path for the guest agent channel (libvirt picks one per node).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 NAME [TESTBED_DIR]" >&2
    exit 2
fi
NAME=$1
DIR=${2:-${TESTBED_DIR:-/var/lib/vmmanager-testbed}}
if [[ ! $NAME =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    echo "domain-xml.sh: invalid guest name '$NAME' (letters, digits, . _ - only)" >&2
    exit 2
fi
DIR=${DIR%/}

cat <<EOF
<domain type='qemu'>
  <name>${NAME}</name>
  <memory unit='MiB'>128</memory>
  <currentMemory unit='MiB'>128</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${DIR}/images/vmlinuz</kernel>
    <initrd>${DIR}/images/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <interface type='user'>
      <model type='e1000'/>
    </interface>
    <serial type='file'>
      <source path='${DIR}/console/${NAME}.log' append='on'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
