#!/usr/bin/env python3
"""vmmanager's agent against resource-agents' VirtualDomain and virsh, side by side in one run.

Measures on one real testbed guest:
  * monitor: wall time and CPU time (user+sys of the process tree) per call, median of N;
  * stop of a running guest: vmmanager (save beside the XML, fsynced, with provenance) vs `virsh managedsave`
    vs VirtualDomain with
    `snapshot` (virsh save), and VirtualDomain's default stop (graceful shutdown, then destroy at the
    operation timeout) on a guest that ignores ACPI.
Every agent invocation runs in its own PID namespace (testbed/in-node.sh), stop paths included.
Prints a markdown report on stdout (the targets with "met" or "no"); exits non-zero only
when something it measures fails.
"""
import os, resource, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENT = os.environ.get("AGENT", os.path.join(ROOT, ".build/release/vmmanager"))
VD = "/usr/lib/ocf/resource.d/heartbeat/VirtualDomain"
TESTBED = os.environ.get("TESTBED_DIR", "/var/lib/vmmanager-testbed")
N = int(os.environ.get("BENCH_RUNS", "20"))
STOP_RUNS = int(os.environ.get("BENCH_STOP_RUNS", "5"))
GUEST = "bench-guest"
IN_NODE = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--"]


def env_file():
    values = {}
    for line in open(os.path.join(TESTBED, "testbed.env")):
        if "=" in line and not line.startswith("#"):
            k, v = line.rstrip("\n").split("=", 1)
            values[k] = v
    return values


def timed(cmd, env=None):
    """Runs cmd; returns (wall seconds, cpu seconds of the children, CompletedProcess)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p


def virsh(*args, check=True):
    p = subprocess.run(["virsh", "-q", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise SystemExit(f"virsh {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout.strip()


def ocf_env(params, timeout_ms=90000, interval_ms=None):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf",
           "OCF_RESOURCE_INSTANCE": GUEST, "OCF_RESKEY_CRM_meta_timeout": str(timeout_ms)}
    if interval_ms is not None:
        env["OCF_RESKEY_CRM_meta_interval"] = str(interval_ms)
    for k, v in params.items():
        env["OCF_RESKEY_" + k] = v
    return env


def median(xs):
    return statistics.median(xs) * 1000


def wait_agent(name):
    deadline = time.time() + 60
    while time.time() < deadline:
        if subprocess.run(["virsh", "-q", "qemu-agent-command", name, '{"execute":"guest-ping"}'],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            return
        time.sleep(0.2)
    raise SystemExit("guest agent did not answer")


def main():
    tb = env_file()
    work = tempfile.mkdtemp(prefix="vmm-bench-")
    xml = os.path.join(work, GUEST + ".xml")
    with open(xml, "w") as f:
        f.write(subprocess.run(["bash", tb["DOMAIN_XML_SCRIPT"], GUEST], stdout=subprocess.PIPE, text=True,
                               check=True).stdout)
    conf = os.path.join(work, "vmmanager.conf")
    open(conf, "w").write("# bench: defaults\n")
    ours = {"config": xml, "conf_file": conf, "state_dir": work + "/state", "lock_dir": work + "/locks"}
    theirs = {"config": xml, "hypervisor": "qemu:///system"}
    snapdir = os.path.join(work, "vd-snapshots")
    os.makedirs(snapdir)

    virsh("destroy", GUEST, check=False)
    virsh("undefine", "--managed-save", GUEST, check=False)
    w, _, p = timed(IN_NODE + [AGENT, "start"], env=ocf_env(ours))
    if p.returncode != 0:
        raise SystemExit("agent start failed: " + p.stderr)
    start_cold = w

    # ---- monitor
    results = {}
    cases = [
        ("vmmanager monitor", lambda: timed([AGENT, "monitor"], env=ocf_env(ours, 20000, 10000))),
        ("VirtualDomain monitor", lambda: timed([VD, "monitor"], env=ocf_env(theirs, 20000, 10000))),
        ("virsh domstate", lambda: timed(["virsh", "-q", "domstate", GUEST])),
    ]
    for _ in range(2):  # warm the page cache
        for _, f in cases:
            f()
    for name, f in cases:
        walls, cpus = [], []
        for _ in range(N):
            w, c, p = f()
            if p.returncode != 0:
                raise SystemExit(f"{name} failed ({p.returncode}): {p.stderr}")
            walls.append(w)
            cpus.append(c)
        results[name] = (median(walls), median(cpus))

    # ---- stop of a running guest
    def restore_running():
        if virsh("domstate", GUEST) != "running":
            virsh("start", GUEST)
        wait_agent(GUEST)

    stops = {"vmmanager stop (save beside the XML)": [], "virsh managedsave": [], "VirtualDomain stop (snapshot=, virsh save)": []}
    restores = {"vmmanager start (restore, clock set)": [], "virsh start (managed-save restore)": []}
    for _ in range(STOP_RUNS):
        restore_running()
        w, _, p = timed(IN_NODE + [AGENT, "stop"], env=ocf_env(ours, 60000))
        assert p.returncode == 0, p.stderr
        stops["vmmanager stop (save beside the XML)"].append(w)
        # The agent's own start restores (and removes) the image its stop wrote.
        w, _, p = timed(IN_NODE + [AGENT, "start"], env=ocf_env(ours, 60000))
        assert p.returncode == 0 and "resumed-from-saved" in p.stderr, p.stderr
        restores["vmmanager start (restore, clock set)"].append(w)
        w, _, p = timed(IN_NODE + ["virsh", "-q", "managedsave", GUEST])
        assert p.returncode == 0, p.stderr
        stops["virsh managedsave"].append(w)
        w, _, p = timed(IN_NODE + ["virsh", "-q", "start", GUEST])
        assert p.returncode == 0, p.stderr
        restores["virsh start (managed-save restore)"].append(w)
        restore_running()
        w, _, p = timed(IN_NODE + [VD, "stop"], env=ocf_env(dict(theirs, snapshot=snapdir), 60000))
        assert p.returncode == 0, p.stderr
        stops["VirtualDomain stop (snapshot=, virsh save)"].append(w)
        virsh("restore", os.path.join(snapdir, GUEST + ".state"))
        os.unlink(os.path.join(snapdir, GUEST + ".state"))
    stop_medians = {k: median(v) for k, v in stops.items()}
    restore_medians = {k: median(v) for k, v in restores.items()}

    # VirtualDomain's default stop on a guest that ignores ACPI: shutdown, then destroy at timeout - 5 s.
    restore_running()
    vd_default, _, p = timed(IN_NODE + [VD, "stop"], env=ocf_env(theirs, 20000))
    restore_running()
    ours_chain, _, p2 = timed(IN_NODE + [AGENT, "stop"],
                              env=ocf_env(dict(ours, stop_methods="shutdown,destroy"), 20000))

    # ---- report
    vm, vd, vs = results["vmmanager monitor"], results["VirtualDomain monitor"], results["virsh domstate"]
    targets = [
        ("monitor wall ≥ 8× faster than VirtualDomain", vd[0] / vm[0] >= 8, f"{vd[0] / vm[0]:.1f}×"),
        ("monitor CPU ≥ 8× less than VirtualDomain", vd[1] / max(vm[1], 1e-3) >= 8, f"{vd[1] / max(vm[1], 1e-3):.1f}×"),
        ("monitor wall within 1.3× of virsh domstate", vm[0] <= 1.3 * vs[0], f"{vm[0] / vs[0]:.2f}×"),
        ("stop within 1.2× of virsh managedsave",
         stop_medians["vmmanager stop (save beside the XML)"] <= 1.2 * stop_medians["virsh managedsave"],
         f"{stop_medians['vmmanager stop (save beside the XML)'] / stop_medians['virsh managedsave']:.2f}×"),
    ]
    out = []
    out.append(f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
               f"TCG guest of 128 MiB (testbed), agent built in release mode.\n")
    out.append(f"### monitor (median of {N}, running guest)\n")
    out.append("| command | wall ms | CPU ms |\n|---|---:|---:|")
    for name, (w, c) in results.items():
        out.append(f"| {name} | {w:.1f} | {c:.1f} |")
    out.append(f"\n### stop of a running guest (median of {STOP_RUNS})\n")
    out.append("| command | wall ms |\n|---|---:|")
    for name, w in stop_medians.items():
        out.append(f"| {name} | {w:.0f} |")
    out.append(f"\n### start of a saved guest (median of {STOP_RUNS})\n")
    out.append("vmmanager's start judges the image (provenance, generation, disks), advances the generation, restores "
               "it, removes it, and sets the guest's clock through its agent; virsh lets libvirt restore its own image.\n")
    out.append("| command | wall ms |\n|---|---:|")
    for name, w in restore_medians.items():
        out.append(f"| {name} | {w:.0f} |")
    out.append(f"\nGuest that ignores the ACPI power button, operation timeout 20 s: VirtualDomain's default stop "
               f"(shutdown, then destroy at timeout − 5 s) took {vd_default:.1f} s; vmmanager with "
               f"stop_methods=shutdown,destroy (destroy reserve {min(10, 15 / 4):.2f} s) took {ours_chain:.1f} s; "
               f"vmmanager's default chain saves first and takes the save time above.\n")
    out.append(f"Cold start of the guest through the agent (define + boot + wait for the guest agent): {start_cold:.1f} s.\n")
    out.append("### targets\n")
    out.append("| target | result | met |\n|---|---:|:---:|")
    for name, ok, value in targets:
        out.append(f"| {name} | {value} | {'yes' if ok else '**no**'} |")
    print("\n".join(out))

    subprocess.run(IN_NODE + [AGENT, "stop"], env=ocf_env(ours, 60000), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    virsh("undefine", "--managed-save", GUEST, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
