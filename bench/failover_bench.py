#!/usr/bin/python3
"""A node's worth of guests started at once, as on the survivor of a failover: time until all are ready.

For N = 1, 2, 4, 8 real testbed guests (QUICK=1: 1, 2, 4), N resource-agent processes start their guest at
the same moment (each in its own PID namespace, as Pacemaker or heartbeat would run them), under three
admission policies: serial (boot_slots = 1, the thesis's one-at-a-time), unbounded (boot_slots = 64) and
bounded (boot_slots = auto: one per CPU). Each start returns only when its guest is ready (its guest agent
answers). The physical limit on this machine is CPU:
    max(one guest's boot-to-ready, N x one boot's CPU time / cores),
with one boot's CPU time read from the QEMU process when its start returned.

Prints a markdown section on stdout; with CHART=path also draws failover time against N (matplotlib).
"""
import json, os, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_bench import env_file  # noqa: E402  (the testbed's env file, read as the other benches do)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENT = os.environ.get("AGENT", os.path.join(ROOT, ".build/release/vmmanager"))
TESTBED = os.environ.get("TESTBED_DIR", "/var/lib/vmmanager-testbed")
QUICK = os.environ.get("QUICK") == "1"
SIZES = [int(n) for n in os.environ["BENCH_SIZES"].split(",")] if os.environ.get("BENCH_SIZES") \
    else [1, 2, 4] if QUICK else [1, 2, 4, 8]
POLICIES = [("serial", "1"), ("unbounded", "64"), ("bounded", "auto")]
IN_NODE = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--"]
CORES = os.cpu_count() or 1
TICK = os.sysconf("SC_CLK_TCK")


def virsh(*args):
    return subprocess.run(["virsh", "-q", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def qemu_cpu_seconds(name):
    """User + system time of the guest's QEMU process so far."""
    try:
        pid = open("/run/libvirt/qemu/%s.pid" % name).read().strip()
        fields = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return None


def shut_off(names):
    for n in names:
        virsh("destroy", n)


def run_once(names, work, slots):
    """Cold-boots `names` at once with boot_slots = `slots`; returns (all ready, each ready, each's QEMU CPU)."""
    conf = os.path.join(work, "vmmanager-%s.conf" % slots)
    with open(conf, "w") as f:
        f.write("[global]\nboot_slots = %s\nstop_methods = destroy\n" % slots)
    shut_off(names)
    return agents_at_once("start", names, work, conf)


def agents_at_once(action, names, work, conf):
    procs = []
    t0 = time.perf_counter()
    for n in names:
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": n,
               "OCF_RESKEY_CRM_meta_timeout": "600000", "OCF_RESKEY_config": os.path.join(work, n + ".xml"),
               "OCF_RESKEY_conf_file": conf, "OCF_RESKEY_state_dir": os.path.join(work, "state"),
               "OCF_RESKEY_lock_dir": os.path.join(work, "locks")}
        procs.append((n, subprocess.Popen(IN_NODE + [AGENT, action], env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True)))
    ready, cpu = {}, {}
    pending = dict(procs)
    while pending:
        for n, p in list(pending.items()):
            if p.poll() is not None:
                ready[n] = time.perf_counter() - t0
                cpu[n] = qemu_cpu_seconds(n)
                if p.returncode != 0:
                    raise SystemExit("%s of %s failed (%s): %s" % (action, n, open(conf).read(), p.stderr.read()))
                del pending[n]
        time.sleep(0.02)
    return max(ready.values()), ready, cpu


def main():
    tb = env_file()
    work = tempfile.mkdtemp(prefix="vmm-failover-")
    names = ["bench-fo-%d" % i for i in range(max(SIZES))]
    for n in names:
        virsh("destroy", n)
        virsh("undefine", "--managed-save", n)
        with open(os.path.join(work, n + ".xml"), "w") as f:
            f.write(subprocess.run(["bash", tb["DOMAIN_XML_SCRIPT"], n], stdout=subprocess.PIPE, text=True,
                                   check=True).stdout)
    # One guest alone: its boot-to-ready and the CPU that boot cost (the two terms of the limit).
    run_once(names[:1], work, "1")  # first boot: page cache warm, definition made
    single, _, cpu = run_once(names[:1], work, "1")
    boot_cpu = cpu[names[0]] or 0.0
    rows, results = [], {}
    for size in SIZES:
        limit = max(single, size * boot_cpu / CORES)
        results[size] = {"limit_s": round(limit, 2)}
        for policy, slots in POLICIES:
            total, _, _ = run_once(names[:size], work, slots)
            results[size][policy] = round(total, 2)
        r = results[size]
        rows.append("| %d | %.1f | %.1f | %.1f | %.1f | %.2f× |" % (
            size, r["serial"], r["unbounded"], r["bounded"], limit, r["bounded"] / limit))
    saves = save_and_restore(names[:max(SIZES)], work)
    shut_off(names)
    for n in names:
        virsh("undefine", "--managed-save", n)

    print("%d CPUs; one guest alone: ready %.1f s after its start, its boot cost %.1f s of CPU. All starts "
          "succeeded within their budget (600 s) in every run: no boot-wait timed out." % (CORES, single, boot_cpu))
    print()
    print("| guests (N) | serial (boot_slots = 1), s | unbounded (64), s | bounded (auto = %d), s | physical limit, s "
          "| bounded / limit |" % CORES)
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print("The limit is max(one guest's boot-to-ready, N × one boot's CPU time / %d cores). The thesis's serial "
          "timer waited 60 s per guest: N × 60 s." % CORES)
    print()
    print_saves(saves)
    chart = os.environ.get("CHART")
    if chart:
        draw(chart, results)
        print()
        print("![failover time against N](%s)" % os.path.basename(chart))
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(results, f)


def disk_bandwidth(directory):
    """MiB/s of a 256 MiB write (fsynced) and of reading it back from a dropped page cache."""
    path = os.path.join(directory, "bandwidth.tmp")
    t0 = time.perf_counter()
    subprocess.run(["dd", "if=/dev/zero", "of=" + path, "bs=1M", "count=256", "conv=fdatasync"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    write = 256 / (time.perf_counter() - t0)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1\n")
    t0 = time.perf_counter()
    subprocess.run(["dd", "if=" + path, "of=/dev/null", "bs=1M"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    read = 256 / (time.perf_counter() - t0)
    os.unlink(path)
    return write, read


def save_and_restore(names, work):
    """N running guests stopped at once (saved beside their XML) and started again (restored), under
    save_slots/restore_slots = 1, 2 and 64; with the disk's own bandwidth for the limit."""
    write, read = disk_bandwidth(work)
    out = {"write_MiBps": write, "read_MiBps": read, "runs": []}
    for slots in ["1", "2", "64"]:
        conf = os.path.join(work, "vmmanager-save-%s.conf" % slots)
        with open(conf, "w") as f:
            f.write("[global]\nsave_slots = %s\nrestore_slots = %s\nboot_slots = auto\n" % (slots, slots))
        for n in names:  # all running, ready
            if virsh("domstate", n).stdout.strip() != "running":
                agents_at_once("start", [n], work, conf)
        saved, each_saved, _ = agents_at_once("stop", names, work, conf)
        size = sum(os.path.getsize(os.path.join(work, n + ".state")) for n in names) / 2**20
        restored, each_restored, _ = agents_at_once("start", names, work, conf)
        out["runs"].append({"slots": slots, "save_s": saved, "restore_s": restored, "image_MiB": size,
                            "slowest_guest_save_s": max(each_saved.values())})
    return out


def print_saves(saves):
    print("Graceful stop of all guests at once (each saved beside its XML, fsynced), then start of all at once "
          "(each restored); the disk here writes %.0f MiB/s and reads %.0f MiB/s (dd, 256 MiB, fsynced / cold "
          "cache):" % (saves["write_MiBps"], saves["read_MiBps"]))
    print()
    print("| save_slots = restore_slots | guests | images, MiB | all saved, s | disk limit (write), s | "
          "all restored, s | disk limit (read), s |")
    print("|---|---|---|---|---|---|---|")
    for r in saves["runs"]:
        print("| %s | %d | %.0f | %.1f | %.1f | %.1f | %.1f |" % (
            r["slots"], max(SIZES), r["image_MiB"], r["save_s"], r["image_MiB"] / saves["write_MiBps"],
            r["restore_s"], r["image_MiB"] / saves["read_MiBps"]))


def draw(path, results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sizes = sorted(results)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for policy, _ in POLICIES:
        ax.plot(sizes, [results[n][policy] for n in sizes], marker="o", label=policy)
    ax.plot(sizes, [results[n]["limit_s"] for n in sizes], linestyle="--", color="black", label="physical limit")
    ax.set_xlabel("guests started at once (N)")
    ax.set_ylabel("seconds until all are ready")
    ax.set_xticks(sizes)
    ax.set_title("Failover onto one node: all guests ready")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    sys.exit(main())
