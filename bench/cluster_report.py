#!/usr/bin/python3
"""Renders the cluster lab's figures (the results file of testbed/cluster/scenarios.py) as the
"Cluster failover" section of docs/benchmarks.md, beside the thesis's figures.

    cluster_report.py RESULTS.json            print the section
    cluster_report.py RESULTS.json --into F   replace the section in F (between its markers)
"""
import json
import sys
import time

BEGIN = "<!-- cluster-failover: written by bench/cluster_report.py -->"
END = "<!-- /cluster-failover -->"


def fmt(d):
    return ", ".join("%s %s s" % (k, v) for k, v in sorted(d.items())) if isinstance(d, dict) else "%s s" % d


def section(r):
    hb_t = r.get("heartbeat_graceful_takeover", {})
    hb_f = r.get("heartbeat_failback", {})
    hb_c = r.get("heartbeat_crash", {})
    pm_m = r.get("pacemaker_live_move", {})
    pm_s = r.get("pacemaker_standby", {})
    pm_g = r.get("pacemaker_guest_crash", {})
    pm_n = r.get("pacemaker_node_loss", {})
    pm_l = r.get("pacemaker_libvirtd_restart", {})
    pm_c = r.get("pacemaker_monitor_ms", {})
    hb_g = r.get("heartbeat_guest_failure", {})
    hb_ct = r.get("heartbeat_container_failure", {})
    lines = [BEGIN, "## Cluster failover", "",
             "`make bench-cluster` (the scenarios of `make test-cluster`), run %s UTC: two lab nodes with real "
             "heartbeat 3.0.6 and Pacemaker 2.1.5/Corosync 3.1.7, 128 MiB TCG guests (four under heartbeat, two "
             "under Pacemaker) and two containers under each on a 2-core machine; a client on the LAN pings each guest every 100 ms and holds a "
             "TCP session to it. Outage = the longest stretch without a ping reply; \"answering\" = the first ping "
             "reply after the outage (the guest also answered on a new TCP session; its old ones died with it)." % time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "",
             "| Scenario | vmmanager (measured) | The thesis (2007, heartbeat + VMware Server) |",
             "|---|---|---|",
             "| heartbeat graceful takeover (`heartbeat -k` on bravo): outage per guest | %s; TCP sessions survived: %s; whole takeover %s s |"
             " ~15–25 s of lost pings, ssh/http sessions survived |"
             % (fmt(hb_t.get("ping_outage_s", {})), "yes" if hb_t.get("sessions_survived") else "no",
                hb_t.get("takeover_s", "?")),
             "| heartbeat failback (auto_failback on): outage per guest | %s; sessions survived: %s |"
             " (same mechanism) |" % (fmt(hb_f.get("ping_outage_s", {})), "yes" if hb_f.get("sessions_survived") else "no"),
             "| heartbeat crash (SIGKILL of bravo's init): kill → guest answering on alpha | %s (deadtime 5 s, then the "
             "group's file system is mounted and its guests booted) | ~60 s per booted VM |" % fmt(hb_c.get("kill_to_answering_s", {})),
             "| heartbeat, the group's container (libvirt LXC, no saved state: stopped on one node, started afresh on "
             "the other): outage | takeover %s; failback %s; crash of its node: %s (from the kill). It is last in its group, so it waits "
             "for the VMs before it: its own start takes about 0.2 s | the CVserver "
             "pairs (Linux-VServer): the survivor starts the failed host's vservers |"
             % (fmt(hb_t.get("container_outage_s", "?")), fmt(hb_f.get("container_outage_s", "?")),
                fmt(hb_c.get("container_kill_to_answering_s", "?"))),
             "| heartbeat, a container's init is killed (libvirt: \"stopped (shutdown)\", outside any action) |"
             " restarted on its own node by vmctl watch (`--also-connect lxc:///system`): %s to answering | a failing "
             "vserver is restarted on its host first (seed 000 §3) |" % fmt(hb_ct.get("restart_here_s", "?")),
             "| Pacemaker live move (`crm_resource --move`) | %s s to running on the target; longest ping gap %s s; "
             "QEMU downtime %s ms | — |" % (pm_m.get("move_s", "?"), pm_m.get("ping_gap_s", "?"),
                                           pm_m.get("qemu_downtime_ms", "?")),
             "| Pacemaker standby (`crm node standby`, two guests) | %s s to empty the node, by live migration | — |"
             % pm_s.get("emptied_s", "?"),
             "| heartbeat, one guest fails (SIGKILL of its QEMU; `failure_response = restart`, `local_restarts = 1`) |"
             " restarted on its own node by vmctl watch: %s to answering; on the next failure its group was handed "
             "to the peer: %s to answering there, its healthy neighbour resumed with its sessions | heartbeat v1 "
             "never noticed a failed guest |" % (fmt(hb_g.get("restart_here_s", "?")), fmt(hb_g.get("handed_over_s", "?"))),
             "| Pacemaker guest crash (SIGKILL of QEMU) | found by the monitor (every 10 s): %s to answering; told to "
             "Pacemaker at once by vmctl watch (`failure_response = pacemaker`): %s | — |"
             % (fmt(pm_g.get("kill_to_answering_s", "?")), fmt(pm_g.get("event_driven_kill_to_answering_s", "?"))),
             "| Pacemaker node loss (SIGKILL of a node's init) | guests: %s to answering on the survivor; the "
             "containers' group (cold start, ct2 after ct1 is ready): outage %s | — |"
             % (fmt(pm_n.get("kill_to_answering_s", {})), fmt(pm_n.get("container_outage_s", "?"))),
             "| libvirtd restart on the active node (down %s s) | guests stopped: %s; failures in the CIB: %s | — |"
             % (pm_l.get("libvirtd_down_s", "?"), pm_l.get("guests_stopped", "?"), pm_l.get("failures", "?")),
             "| monitor of a running guest under Pacemaker (utilization attributes on, VirtualDomain's default), median of 10 |"
             " vmmanager %s ms; VirtualDomain %s ms | — |" % (pm_c.get("vmmanager", "?"), pm_c.get("VirtualDomain", "?")),
             "", END]
    return "\n".join(lines)


def main():
    if len(sys.argv) not in (2, 4):
        sys.stderr.write(__doc__)
        return 64
    with open(sys.argv[1]) as f:
        text = section(json.load(f))
    if len(sys.argv) == 2:
        print(text)
        return 0
    path = sys.argv[3]
    with open(path) as f:
        doc = f.read()
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    with open(path, "w") as f:
        f.write(doc)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
