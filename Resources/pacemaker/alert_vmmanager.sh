#!/bin/sh
# Pacemaker alert agent: node loss, fencing and failed resource operations, in the same e-mail and webhook
# format as vmmanager's guest transitions (docs/notifications.md).
#
#   pcs alert create id=vmmanager path=/usr/share/vmmanager/alert_vmmanager.sh
#   crm configure alert vmmanager /usr/share/vmmanager/alert_vmmanager.sh
#
# Recipients are not needed: the targets come from [notify] of /etc/vmmanager/vmmanager.conf (as root, an
# instance attribute VMMANAGER_CONF names another file).
#
# Pacemaker runs alert agents as hacluster, while the spool and the secret files belong to root. Run as
# root, this script hands over directly; otherwise it passes the CRM_alert_* variables through sudo on
# stdin, which needs only this sudoers line (no SETENV, no arguments of the caller's choosing):
#
#   hacluster ALL=(root) NOPASSWD: /usr/sbin/vmctl alert --stdin
VMCTL=${VMCTL:-/usr/sbin/vmctl}

if [ "$(id -u)" -eq 0 ]; then
    exec "$VMCTL" alert --config "${VMMANAGER_CONF:-/etc/vmmanager/vmmanager.conf}"
fi
env -0 | grep -z '^CRM_alert_' | sudo -n "$VMCTL" alert --stdin
