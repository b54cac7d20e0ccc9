#!/usr/bin/env bash
# Installs the Debian packages vmmanager builds against and the testbed runs (`make deps`).
set -euo pipefail
_SCRIPT_NAME=install-packages
# shellcheck source=testbed/lib.sh
source "$(dirname "$0")/lib.sh"
ensure_packages
