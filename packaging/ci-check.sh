#!/usr/bin/env bash
# CI: the Debian package as an admin installs it. .ci/run calls this after `make test`, while the
# testbed is still up:
#   1. make deb
#   2. apt-get install ./vmmanager_<version>_amd64.deb (its Depends resolved), the installed files checked
#   3. resource-agents' ocf-tester against the installed agent /usr/lib/ocf/resource.d/vmmanager/guest,
#      with a testbed guest (pkg-ocftester) in a scratch vm_dir with its own state, lock and quarantine
#      directories (the approach of AgentTests' ocf-tester test)
#   4. dpkg --purge vmmanager: nothing of the package left, data in /var/lib and /var/spool kept
# Every step runs even after an earlier one failed (the package is always purged again); the script
# exits 1, naming each failed step, if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
TESTBED_DIR=${TESTBED_DIR:-/var/lib/vmmanager-testbed}
guest=pkg-ocftester
agent=/usr/lib/ocf/resource.d/vmmanager/guest
version=$(sed -n 's/^public let vmmanagerVersion = "\(.*\)"$/\1/p' Sources/VMManager/Version.swift)
uri=$(sed -n 's/^NODE_A_URI=//p' "$TESTBED_DIR/testbed.env" 2>/dev/null)
uri=${uri:-qemu:///system}
failed=()

fail() {
    failed+=("$1")
    echo "ci-check: FAILED: $1" >&2
}
step() { echo "ci-check: $*"; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/vmm-pkg-ci.XXXXXX")
chmod 0755 "$scratch"  # libvirt writes the saved image beside the guest's XML
remove_guest() {
    virsh -q -c "$uri" destroy "$guest" >/dev/null 2>&1
    virsh -q -c "$uri" undefine "$guest" --managed-save >/dev/null 2>&1
    return 0
}
cleanup() {
    remove_guest
    rm -rf "$scratch"
}
trap cleanup EXIT

# 1. The package.
step "make deb"
deb=""
if make deb DEB_DIR="$scratch/deb" >"$scratch/make-deb.log" 2>&1; then
    deb=$scratch/deb/vmmanager_${version}_amd64.deb
    [[ -f $deb ]] || fail "make deb wrote no $deb"
else
    tail -n 40 "$scratch/make-deb.log" >&2
    fail "make deb"
fi

# 2. Installed as admins install it.
installed=0
if [[ -n $deb && -f $deb ]]; then
    step "apt-get install $(basename "$deb")"
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" >"$scratch/apt.log" 2>&1; then
        installed=1
    else
        tail -n 40 "$scratch/apt.log" >&2
        fail "apt-get install $(basename "$deb")"
    fi
fi
if ((installed)); then
    for path in /usr/sbin/vmmanager /usr/lib/vmmanager/vmmanager-agent /usr/sbin/vmctl "$agent" \
        /etc/ha.d/resource.d/vmmanager /usr/share/vmmanager/alert_vmmanager.sh; do
        [[ -x $path ]] || fail "installed: $path is not an executable"
    done
    for path in /etc/vmmanager/vmmanager.conf /usr/lib/tmpfiles.d/vmmanager.conf \
        /usr/share/man/man8/vmmanager.8.gz /usr/share/man/man8/vmctl.8.gz; do
        [[ -f $path ]] || fail "installed: no $path"
    done
    for dir in /etc/vmmanager/guests /run/vmmanager /var/lib/vmmanager /var/spool/vmmanager; do
        [[ -d $dir ]] || fail "installed: no directory $dir"
    done
    [[ $(stat -c %a /var/spool/vmmanager 2>/dev/null) == 700 ]] || fail "installed: /var/spool/vmmanager is not mode 0700"
    [[ $("$agent" --version 2>&1) == "vmmanager $version" ]] || fail "$agent --version: not 'vmmanager $version'"
    [[ $(/usr/sbin/vmctl --version 2>&1) == "vmctl $version" ]] || fail "vmctl --version: not 'vmctl $version'"
    grep -q 'ExecStart=/usr/sbin/vmctl ' /usr/lib/systemd/system/vmmanager-watch.service ||
        fail "installed: vmmanager-watch.service does not run /usr/sbin/vmctl"

    # 3. ocf-tester on the installed agent, with a real guest of the testbed.
    step "ocf-tester $agent (guest $guest on $uri)"
    remove_guest
    mkdir -p "$scratch/vm"
    if bash testbed/guest/domain-xml.sh "$guest" "$TESTBED_DIR" >"$scratch/vm/$guest.xml"; then
        echo "# empty: all defaults" >"$scratch/vm/vmmanager.conf"
        options=()
        for kv in "config=$guest.xml" "vm_dir=$scratch/vm" "hypervisor=$uri" "state_dir=$scratch/state" \
            "lock_dir=$scratch/locks" "quarantine_dir=$scratch/quarantine" "conf_file=$scratch/vm/vmmanager.conf"; do
            options+=(-o "$kv")
        done
        # In its own PID namespace, as a cluster node runs an agent (testbed/in-node.sh says why).
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin OCF_ROOT=/usr/lib/ocf \
            timeout 900 bash testbed/in-node.sh /usr/sbin/ocf-tester -n "$guest" "${options[@]}" "$agent" \
            >"$scratch/ocf-tester.log" 2>&1
        rc=$?
        if [[ $rc -ne 0 ]] || ! grep -q "passed all tests" "$scratch/ocf-tester.log"; then
            cat "$scratch/ocf-tester.log" >&2
            fail "ocf-tester against the installed agent (exit $rc)"
        fi
    else
        fail "testbed/guest/domain-xml.sh $guest (is the testbed up?)"
    fi
    remove_guest
fi

# 4. Purged: the package's files go, the data stays.
if dpkg-query -W -f='${db:Status-Abbrev}' vmmanager 2>/dev/null | grep -q '^[ih]'; then
    step "dpkg --purge vmmanager"
    markers=()
    for dir in /var/lib/vmmanager /var/spool/vmmanager; do
        if [[ -d $dir ]] && touch "$dir/.ci-check-keep"; then markers+=("$dir/.ci-check-keep"); fi
    done
    if dpkg --purge vmmanager >"$scratch/purge.log" 2>&1; then
        for path in /usr/sbin/vmmanager /usr/lib/vmmanager/vmmanager-agent /usr/sbin/vmctl "$agent" /etc/ha.d/resource.d/vmmanager \
            /etc/vmmanager/vmmanager.conf /usr/share/vmmanager; do
            [[ -e $path || -L $path ]] && fail "purged: $path is still there"
        done
        for marker in "${markers[@]}"; do
            [[ -e $marker ]] || fail "purged: $marker was deleted (purge must keep data)"
        done
    else
        cat "$scratch/purge.log" >&2
        fail "dpkg --purge vmmanager"
    fi
    for marker in "${markers[@]}"; do
        rm -f "$marker"
        rmdir --ignore-fail-on-non-empty "$(dirname "$marker")" 2>/dev/null
    done
fi

if ((${#failed[@]})); then
    echo "ci-check: ${#failed[@]} check(s) of the Debian package failed:" >&2
    printf '  - %s\n' "${failed[@]}" >&2
    exit 1
fi
step "the Debian package passed: built, installed, ocf-tester on the installed agent, purged"
