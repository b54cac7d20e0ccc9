#!/usr/bin/python3
"""How the costs grow, on the testbed's real guests (node A, and node B for migrations):

  * monitor of a running guest with 1, 10 and 50 guests defined on the node (full agent, no vmctl watch);
  * for guest memory 128, 256 and 512 MiB: the agent's stop (save beside the XML) and start (restore) next to
    `virsh save` / `virsh restore` of the same guest and virsh doing the start's whole work (restore, wait for
    the guest agent, set the clock), and the disk's bandwidth (the physical limit); the live migration by the
    agent's migrate_to + migrate_from next to `virsh migrate --live`, and the QEMU-reported downtime.

Prints a markdown section on stdout; with CHART=path also draws save and restore time against memory with
the disk's bandwidth line (matplotlib).
"""
import os, re, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_bench import env_file  # noqa: E402
from failover_bench import disk_bandwidth, virsh  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build/release")
AGENT = os.path.join(BIN, "vmmanager-agent")
VMCTL = os.path.join(BIN, "vmctl")
QUICK = os.environ.get("QUICK") == "1"
RUNS = 10 if QUICK else 30
# Save/restore and migration rounds per memory size (medians).
REPEATS = 3 if QUICK else 5
IN_NODE = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--"]


def timed(cmd, env=None, check=True):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise SystemExit("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return time.perf_counter() - t0, p


def ocf(work, name, xml, timeout_ms=120000, interval_ms=None):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": name,
           "OCF_RESKEY_CRM_meta_timeout": str(timeout_ms), "OCF_RESKEY_config": xml,
           "OCF_RESKEY_conf_file": os.path.join(work, "vmmanager.conf"),
           "OCF_RESKEY_state_dir": os.path.join(work, "state"), "OCF_RESKEY_lock_dir": os.path.join(work, "locks")}
    if interval_ms:
        env["OCF_RESKEY_CRM_meta_interval"] = str(interval_ms)
    return env


def guest_xml(tb, name, memory_mib=128):
    xml = subprocess.run(["bash", tb["DOMAIN_XML_SCRIPT"], name], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    return re.sub(r"(<(current)?[mM]emory unit='MiB'>)128(</)", r"\g<1>%d\g<3>" % memory_mib, xml)


def remove(name, uri="qemu:///system"):
    subprocess.run(["virsh", "-q", "-c", uri, "destroy", name], capture_output=True)
    subprocess.run(["virsh", "-q", "-c", uri, "undefine", "--managed-save", name], capture_output=True)


def wait_agent(name, uri="qemu:///system", timeout=90, poll=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if subprocess.run(["virsh", "-q", "-c", uri, "qemu-agent-command", name, '{"execute":"guest-ping"}'],
                          capture_output=True).returncode == 0:
            return
        time.sleep(poll)
    raise SystemExit("%s: the guest agent did not answer" % name)


def monitor_scaling(tb, work):
    rows = []
    running = "bench-sc-run"
    xml = os.path.join(work, running + ".xml")
    open(xml, "w").write(guest_xml(tb, running))
    remove(running)
    timed(IN_NODE + [AGENT, "start"], env=ocf(work, running, xml))
    extra = []
    for total in (1, 10, 50):
        while len(extra) < total - 1:
            n = "bench-sc-%02d" % len(extra)
            remove(n)
            path = os.path.join(work, n + ".xml")
            open(path, "w").write(guest_xml(tb, n))
            virsh("define", path)
            extra.append(n)
        walls, virsh_walls = [], []
        for _ in range(RUNS):
            w, _ = timed([AGENT, "monitor"], env=ocf(work, running, xml, 20000, 10000))
            walls.append(w)
            w, _ = timed(["virsh", "-q", "domstate", running])
            virsh_walls.append(w)
        rows.append("| %d | %.1f | %.1f |" % (total, statistics.median(walls) * 1000,
                                               statistics.median(virsh_walls) * 1000))
    for n in extra + [running]:
        remove(n)
    return rows


def memory_sweep(tb, work):
    node_b, migrate_uri = tb["NODE_B_URI"], tb["NODE_B_MIGRATE_URI"]
    out = []
    for mib in (128, 256, 512):
        name = "bench-mem"
        remove(name)
        remove(name, node_b)
        xml = os.path.join(work, "%s-%d" % (name, mib), name + ".xml")
        os.makedirs(os.path.dirname(xml), exist_ok=True)
        open(xml, "w").write(guest_xml(tb, name, mib))
        timed(IN_NODE + [AGENT, "start"], env=ocf(work, name, xml))
        image = os.path.join(os.path.dirname(xml), name + ".state")
        plain = os.path.join(work, "virsh-%d.save" % mib)
        saves, restores, vsaves, vrestores, vfulls = [], [], [], [], []
        # Alternating, REPEATS times: the agent's stop and start, virsh save and restore, then virsh doing the
        # agent's whole start (restore, wait until the guest agent answers, set the clock) on the same image.
        for _ in range(REPEATS):
            time.sleep(1)
            save_s, _ = timed(IN_NODE + [AGENT, "stop"], env=ocf(work, name, xml))
            size = os.path.getsize(image) / 2**20
            restore_s, p = timed(IN_NODE + [AGENT, "start"], env=ocf(work, name, xml))
            if "resumed-from-saved" not in p.stderr:
                raise SystemExit("%d MiB: the agent's start did not restore the saved image: %s" % (mib, p.stderr))
            saves.append(save_s)
            restores.append(restore_s)
            vsave_s, _ = timed(["virsh", "-q", "save", name, plain])
            vrestores.append(timed(["virsh", "-q", "restore", plain])[0])
            vsaves.append(vsave_s)
            wait_agent(name)
            timed(["virsh", "-q", "save", name, plain])
            t0 = time.perf_counter()
            timed(["virsh", "-q", "restore", plain])
            wait_agent(name, poll=0.02)
            timed(["virsh", "-q", "domtime", name, "--now"], check=False)
            vfulls.append(time.perf_counter() - t0)
            os.unlink(plain)
        med = statistics.median
        save_s, restore_s, vsave_s, vrestore_s, vfull_s = (
            med(saves), med(restores), med(vsaves), med(vrestores), med(vfulls))
        # Live migration by the cluster's two steps (migrate_to here, migrate_from on node B), then back.
        source = ocf(work, name, xml)
        source.update({"OCF_RESKEY_remoteuri": node_b, "OCF_RESKEY_migrateuri": migrate_uri,
                       "OCF_RESKEY_CRM_meta_migrate_target": "nodeB"})
        target = ocf(work, name, xml)
        target.update({"OCF_RESKEY_hypervisor": node_b, "OCF_RESKEY_CRM_meta_migrate_source": "nodeA"})
        agent_migrates, virsh_migrates = [], []
        for _ in range(REPEATS):
            to_s, _ = timed(IN_NODE + [AGENT, "migrate_to"], env=source)
            from_s, _ = timed(IN_NODE + [AGENT, "migrate_from"], env=target)
            agent_migrates.append(to_s + from_s)
            timed(["virsh", "-q", "-c", node_b, "migrate", "--live", name, "qemu:///system",
                   "--migrateuri", "tcp:" + tb["NODE_A_ADDR"]])
            wait_agent(name)
            # The same direction with virsh, then back.
            virsh_migrates.append(timed(["virsh", "-q", "migrate", "--live", name, node_b,
                                         "--migrateuri", migrate_uri])[0])
            timed(["virsh", "-q", "-c", node_b, "migrate", "--live", name, "qemu:///system",
                   "--migrateuri", "tcp:" + tb["NODE_A_ADDR"]])
            wait_agent(name)
        agent_migrate_s, virsh_migrate_s = med(agent_migrates), med(virsh_migrates)
        _, p = timed([VMCTL, "migrate", name, node_b, "--migrate-uri", migrate_uri])
        m = re.search(r"downtime (\d+) ms", p.stdout)
        downtime = int(m.group(1)) if m else None
        m = re.search(r" in ([0-9.]+) s", p.stdout)
        vmctl_s = float(m.group(1)) if m else None
        remove(name)
        remove(name, node_b)
        out.append({"mib": mib, "image_mib": size, "save_s": save_s, "restore_s": restore_s, "virsh_save_s": vsave_s,
                    "virsh_restore_s": vrestore_s, "virsh_restore_ready_clock_s": vfull_s, "downtime_ms": downtime,
                    "vmctl_migrate_s": vmctl_s, "agent_migrate_s": agent_migrate_s, "virsh_migrate_s": virsh_migrate_s})
    return out


def main():
    tb = env_file()
    work = tempfile.mkdtemp(prefix="vmm-scaling-")
    open(os.path.join(work, "vmmanager.conf"), "w").write("# bench: defaults\n")
    rows = monitor_scaling(tb, work)
    write, read = disk_bandwidth(work)
    sweep = memory_sweep(tb, work)
    print("Monitor of a running guest (the full agent, no vmctl watch; median of %d) with more guests defined on the "
          "node:" % RUNS)
    print()
    print("| guests defined | vmmanager monitor, ms | virsh domstate, ms |")
    print("|---|---|---|")
    print("\n".join(rows))
    print()
    print("Guest memory against save, restore and live migration (medians of %d rounds; the disk writes %.0f MiB/s and "
          "reads %.0f MiB/s with dd, 256 MiB fsynced / cold cache). The agent's stop saves beside the XML and "
          "fsyncs the image and its provenance; its start restores it, waits until the guest agent answers and sets "
          "the guest's clock. *virsh, same work* is `virsh restore`, then `virsh qemu-agent-command guest-ping` "
          "until it answers, then `virsh domtime --now`, on the same image. *agent migrate* is migrate_to on node A "
          "plus migrate_from on node B (what Pacemaker runs), against `virsh migrate --live` from node A to node B; "
          "the QEMU downtime is what `vmctl migrate` to node B reports (one run)." % (REPEATS, write, read))
    print()
    print("| memory, MiB | image, MiB | agent stop (save), s | virsh save, s | write limit, s | agent start (restore), s "
          "| virsh restore, s | virsh, same work, s | restore / virsh restore | restore / virsh same work "
          "| QEMU downtime, ms | agent migrate, s | vmctl migrate, s | virsh migrate, s | agent migrate / virsh |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sweep:
        print("| %d | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f× | %.2f× | %s | %.2f | %s | %.2f | %.2f× |" % (
            r["mib"], r["image_mib"], r["save_s"], r["virsh_save_s"], r["image_mib"] / write, r["restore_s"],
            r["virsh_restore_s"], r["virsh_restore_ready_clock_s"], r["restore_s"] / r["virsh_restore_s"],
            r["restore_s"] / r["virsh_restore_ready_clock_s"],
            r["downtime_ms"] if r["downtime_ms"] is not None else "?", r["agent_migrate_s"],
            "%.2f" % r["vmctl_migrate_s"] if r["vmctl_migrate_s"] else "?", r["virsh_migrate_s"],
            r["agent_migrate_s"] / r["virsh_migrate_s"]))
    chart = os.environ.get("CHART")
    if chart:
        draw(chart, sweep, write)
        print()
        print("![save and restore time against guest memory](%s)" % os.path.basename(chart))


def draw(path, sweep, write):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    mib = [r["mib"] for r in sweep]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(mib, [r["save_s"] for r in sweep], marker="o", label="agent stop (save)")
    ax.plot(mib, [r["virsh_save_s"] for r in sweep], marker="o", label="virsh save")
    ax.plot(mib, [r["restore_s"] for r in sweep], marker="s", label="agent start (restore)")
    ax.plot(mib, [r["virsh_restore_s"] for r in sweep], marker="s", label="virsh restore")
    ax.plot(mib, [r["image_mib"] / write for r in sweep], linestyle="--", color="black",
            label="image size / disk write bandwidth")
    ax.set_xlabel("guest memory, MiB")
    ax.set_ylabel("seconds")
    ax.set_xticks(mib)
    ax.set_title("Save and restore against guest memory")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    sys.exit(main())
