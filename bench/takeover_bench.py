#!/usr/bin/python3
"""A graceful takeover of N guests from node A to node B, as the cluster runs it for independent resources:
each guest's stop on A (the agent saves it beside its XML, on storage both nodes see), then its start on B (the
agent restores that image). All N hand-overs begin at once; save_slots on node A bounds how many save together.

Each guest's outage is measured from outside, by libvirt's own lifecycle events on both nodes (`virsh event
--timestamp`): from the moment it is paused for the save on A to the moment it runs again on B. It is compared
with what the hand-over cannot avoid, measured in the same run: that guest's own save (its stop) plus its own
restore (its start). The cluster's own hand-over time (deciding, calling the next action) is not in this run;
docs/benchmarks.md has the cluster lab's figures for it.

Prints a markdown section on stdout.
"""
import datetime, os, re, statistics, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_bench import env_file  # noqa: E402
from failover_bench import AGENT, IN_NODE, QUICK, virsh  # noqa: E402
from scaling_bench import ocf  # noqa: E402

SIZES = [1, 2, 4] if QUICK else [1, 2, 4, 8]
POLICIES = [("one at a time", "1"), ("parallel (auto)", "auto")]
EVENT = re.compile(r"^(\S+ \S+)\+0000: event 'lifecycle' for domain '([^']+)': (\w+) (\w+)")


def agent(action, name, work, conf, uri):
    env = ocf(work, name, os.path.join(work, name + ".xml"), timeout_ms=300000)
    # Each node has its own state and lock directories; the XML and the saved image are on shared storage.
    node = "b" if "socket=" in uri else "a"
    env.update({"OCF_RESKEY_conf_file": conf, "OCF_RESKEY_hypervisor": uri,
                "OCF_RESKEY_state_dir": os.path.join(work, "state-" + node),
                "OCF_RESKEY_lock_dir": os.path.join(work, "locks-" + node)})
    t0 = time.perf_counter()
    p = subprocess.run(IN_NODE + [AGENT, action], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        raise SystemExit("%s of %s on %s failed: %s" % (action, name, uri, p.stderr))
    return time.perf_counter() - t0, p.stderr


class Events:
    """`virsh event --all --loop --timestamp` on one node, kept in a list of (UTC seconds, domain, event, detail)."""

    def __init__(self, uri):
        self.lines = []
        self.proc = subprocess.Popen(["virsh", "-q", "-c", uri, "event", "--all", "--loop", "--timestamp"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            m = EVENT.match(line)
            if m:
                at = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
                seconds = at.replace(tzinfo=datetime.timezone.utc).timestamp()
                self.lines.append((seconds, m.group(2), m.group(3), m.group(4)))

    def stop(self):
        time.sleep(0.5)
        self.proc.terminate()
        self.proc.wait()
        self.reader.join(timeout=5)

    def first(self, name, event, after):
        return min((t for t, n, e, _ in self.lines if n == name and e == event and t >= after), default=None)


def takeover(names, work, slots, node_a, node_b):
    conf = os.path.join(work, "vmmanager-%s.conf" % slots)
    with open(conf, "w") as f:
        f.write("[global]\nsave_slots = %s\nrestore_slots = %s\n" % (slots, slots))
    for n in names:  # running and ready on node A
        if virsh("domstate", n).stdout.strip() != "running":
            agent("start", n, work, conf, node_a)
    time.sleep(1)
    a, b = Events(node_a), Events(node_b)
    time.sleep(0.5)
    began = time.time()
    each = {}

    def hand_over(n):
        stop_s, _ = agent("stop", n, work, conf, node_a)
        start_s, err = agent("start", n, work, conf, node_b)
        if "resumed-from-saved" not in err:
            raise SystemExit("%s: the start on node B did not restore the saved image: %s" % (n, err))
        each[n] = {"stop_s": stop_s, "start_s": start_s}

    threads = [threading.Thread(target=hand_over, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.time() - began
    a.stop()
    b.stop()
    for n in names:
        paused, running = a.first(n, "Suspended", began), b.first(n, "Resumed", began)
        if paused is None or running is None:
            raise SystemExit("%s: no lifecycle events seen (paused on A %s, running on B %s)" % (n, paused, running))
        each[n]["outage_s"] = running - paused
    # Back to node A for the next run: the same way, one at a time.
    for n in names:
        agent("stop", n, work, conf, node_b)
        agent("start", n, work, conf, node_a)
    return total, each


def main():
    tb = env_file()
    node_a, node_b = tb["NODE_A_URI"], tb["NODE_B_URI"]
    work = tempfile.mkdtemp(prefix="vmm-takeover-")
    names = ["bench-to-%d" % i for i in range(max(SIZES))]
    for n in names:
        for uri in (node_a, node_b):
            virsh("-c", uri, "destroy", n)
            virsh("-c", uri, "undefine", "--managed-save", n)
        with open(os.path.join(work, n + ".xml"), "w") as f:
            f.write(subprocess.run(["bash", tb["DOMAIN_XML_SCRIPT"], n], stdout=subprocess.PIPE, text=True,
                                   check=True).stdout)
    rows = []
    for size in SIZES:
        for policy, slots in POLICIES:
            if size == 1 and slots != "1":
                continue  # one guest: the policies are the same
            total, each = takeover(names[:size], work, slots, node_a, node_b)
            outages = [e["outage_s"] for e in each.values()]
            ratios = [e["outage_s"] / (e["stop_s"] + e["start_s"]) for e in each.values()]
            rows.append("| %d | %s | %.2f | %.2f | %.2f | %.2f | %.2f× |" % (
                size, policy if size > 1 else "-", total, statistics.median(outages), max(outages),
                statistics.median(e["stop_s"] + e["start_s"] for e in each.values()), max(ratios)))
    for n in names:
        for uri in (node_a, node_b):
            virsh("-c", uri, "destroy", n)
            virsh("-c", uri, "undefine", "--managed-save", n)
    print("Graceful takeover of N guests from node A to node B (each: the agent's stop on A saves it, then its start "
          "on B restores it; all N at once). Outage = paused on A → running on B, from libvirt's lifecycle events "
          "on both nodes; *own save + restore* = that guest's stop plus its start, timed in the same run.")
    print()
    print("| guests (N) | saves on node A | all moved, s | outage per guest, s (median) | worst outage, s "
          "| own save + restore, s (median) | worst outage / own save + restore |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
