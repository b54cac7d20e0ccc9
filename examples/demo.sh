#!/usr/bin/env bash
# The vmmanager tour, run by `make demo` after the testbed is up (make testbed NODES=2).
# Every step goes through vmctl, the admin face of the library the cluster agent uses.
set -euo pipefail
cd "$(dirname "$0")/.."

TESTBED_DIR=${TESTBED_DIR:-/var/lib/vmmanager-testbed}
# shellcheck disable=SC1091
source <(grep -E '^[A-Z_]+=' "$TESTBED_DIR/testbed.env" | sed -E 's/^([A-Z_]+)=(.*)$/\1='"'"'\2'"'"'/')
VMCTL=${VMCTL:-.build/debug/vmctl}
GUEST=demo-web
XML=$TESTBED_DIR/guests/$GUEST.xml

t0=${EPOCHREALTIME/[.,]/}
step() {
    local now=${EPOCHREALTIME/[.,]/}
    printf '\n\033[1m[%6.2fs] %s\033[0m\n' "$(( (now - t0) / 1000 ))e-3" "$*"
}
run() {
    printf '$ %s\n' "$*"
    local s=${EPOCHREALTIME/[.,]/}
    "$@"
    local e=${EPOCHREALTIME/[.,]/}
    printf '  (%d ms)\n' $(( (e - s) / 1000 ))
}
# Like run, for commands whose exit code is an answer (heartbeat status: 0 running, 3 stopped).
ask() {
    printf '$ %s\n' "$*"
    local rc=0
    "$@" || rc=$?
    printf '  (exit %d)\n' "$rc"
}
uptime_of() { "$VMCTL" --connect "$1" status "$GUEST" --json | sed -nE 's/.*"uptimeSeconds" : ([0-9.]+).*/\1/p'; }

step "Clean slate: remove an earlier demo guest on both nodes"
for uri in "$NODE_A_URI" "$NODE_B_URI"; do
    virsh -q -c "$uri" destroy "$GUEST" >/dev/null 2>&1 || true
    virsh -q -c "$uri" undefine --managed-save "$GUEST" >/dev/null 2>&1 || true
done
bash "$DOMAIN_XML_SCRIPT" "$GUEST" >"$XML"
echo "guest XML without <uuid> or <mac>: $XML"

step "1. Define the guest with a pinned identity (UUID from its name, MAC from the UUID)"
run "$VMCTL" define "$XML" --pin-identity

step "2. Start it and wait until its guest agent answers"
run "$VMCTL" start "$GUEST" --wait
run "$VMCTL" status "$GUEST"
sleep 2
before=$(uptime_of "$NODE_A_URI")
echo "guest uptime before the save: ${before} s"

step "3. Managed save (the thesis's suspend-on-stop): memory to disk, guest stopped"
run "$VMCTL" save "$GUEST"
run "$VMCTL" list --all

step "4. Restore it: the guest resumes where it was (no reboot)"
run "$VMCTL" restore "$GUEST" --wait
after=$(uptime_of "$NODE_A_URI")
echo "guest uptime after the restore: ${after} s (before the save: ${before} s)"
awk -v a="$after" -v b="$before" 'BEGIN { if (a + 0 < b + 0) { print "the guest rebooted!"; exit 1 } else print "uptime continued: the guest did not reboot" }'

step "5. Live-migrate it to node B"
run "$VMCTL" migrate "$GUEST" "$NODE_B_URI" --migrate-uri "$NODE_B_MIGRATE_URI"
run "$VMCTL" --connect "$NODE_B_URI" status "$GUEST"
echo "node A now says:"
"$VMCTL" list --all | grep -E "NAME|$GUEST"

step "6. And back to node A"
run "$VMCTL" --connect "$NODE_B_URI" migrate "$GUEST" "$NODE_A_URI" --migrate-uri "$NODE_A_MIGRATE_URI"
run "$VMCTL" status "$GUEST"

# The resource agent, as the cluster managers run it (each in its own PID namespace, like a node).
AGENT=${AGENT:-.build/debug/vmmanager}
work=$(mktemp -d)
mkdir -p "$work/guests/$GUEST"
cp "$XML" "$work/guests/$GUEST/$GUEST.xml"
# A real SMTP server on loopback receives the transitions' mails (python3-aiosmtpd).
mkdir -p "$work/mail"
/usr/bin/python3 Tests/Fixtures/smtp_capture.py --dir "$work/mail" --port 0 --port-file "$work/smtp.port" \
    >/dev/null 2>&1 &
smtp_pid=$!
trap 'kill $smtp_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [[ -s $work/smtp.port ]] && break; sleep 0.1; done
cat >"$work/vmmanager.conf" <<CONF
[global]
vm_dir = $work/guests
state_dir = $work/state
lock_dir = $work/locks

[notify]
mail_to = admins@example.org
mail_from = vmmanager@$(hostname)
smtp_url = smtp://127.0.0.1:$(cat "$work/smtp.port")
spool_dir = $work/spool

[guest $GUEST]
config = $work/guests/$GUEST/$GUEST.xml
CONF
hb() { testbed/in-node.sh "$AGENT" "$GUEST/$GUEST.xml" "conf_file=$work/vmmanager.conf" "$@"; }

step "7. Stop it with vmctl: the stop chain suspends it to disk, beside its XML (where the cluster's start finds it)"
run "$VMCTL" stop "$GUEST" --config "$work/vmmanager.conf"
ls "$work/guests/$GUEST"


step "8. heartbeat v1 face: haresources 'node1 vmmanager::$GUEST/$GUEST.xml'"
ask hb status
run hb start
echo "(start returned only once the guest agent answered; the guest came back from its saved image)"
ask hb status
run hb stop
ask hb status

step "9. Pacemaker (OCF) face: ocf:vmmanager:guest with config=$GUEST.xml"
ocf() {
    testbed/in-node.sh env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE="$GUEST" \
        OCF_RESKEY_config="$work/guests/$GUEST/$GUEST.xml" OCF_RESKEY_conf_file="$work/vmmanager.conf" \
        OCF_RESKEY_CRM_meta_timeout=60000 "$AGENT" "$@"
}
for action in start monitor stop monitor; do
    printf '$ vmmanager %s\n' "$action"
    s=${EPOCHREALTIME/[.,]/}
    rc=0; ocf "$action" || rc=$?
    printf '  rc=%d (%d ms)\n' "$rc" $(( (${EPOCHREALTIME/[.,]/} - s) / 1000 ))
done
echo "(monitor: 0 = running, 7 = not running)"

step "10. The mails the agent's transitions produced (the thesis's mailx, made safe)"
# Each agent call spooled its transition and started a detached flush; inside a PID namespace that
# flush ends with the agent, so deliver what is left now.
"$VMCTL" notify flush --config "$work/vmmanager.conf" || true
for f in "$work"/mail/*.json; do
    /usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("Subject: " + m["subject"]); print("    " + m["body"].strip().replace("\n", "\n    ")); print()' "$f"
done

step "11. Clean up"
virsh -q -c "$NODE_A_URI" undefine --managed-save "$GUEST" >/dev/null
virsh -q -c "$NODE_B_URI" undefine "$GUEST" >/dev/null 2>&1 || true
rm -rf "$work"

step "12. The thesis's two cluster tests, for real: heartbeat v1 on two nodes (alpha, bravo)"
# testbed/cluster: each node its own namespaces and libvirtd, vmmanager installed by make install,
# examples/cluster/heartbeat/haresources as shipped, a client on the LAN pinging the guests and holding
# TCP sessions to them. Graceful takeover (heartbeat -k on bravo), then bravo's power cable.
/usr/bin/python3 testbed/cluster/scenarios.py heartbeat --demo

step "Demo finished"
