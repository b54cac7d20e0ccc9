#!/bin/bash
# Configures the lab's cluster, run on one node once both are online.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sed -e "s|@SHARED_DIR@|${LAB_DIR:-/var/lib/vmmanager-lab}/shared|" "$HERE/resources.crm" >/run/resources.crm
crm configure load update /run/resources.crm
