import Foundation
import IntegrationSupport
import Libvirt
import Testing
import VMManager

/// The agent under faults, on real guests: each test is a row of docs/reliability.md. What matters is
/// what a cluster manager sees — the exit code, the time it took, the guest's state afterwards.
@Suite("The agent's worst day", .serialized, .enabled(if: Testbed.isRequested, "run through `make test`"))
struct WorstDayTests {
    let testbed: Testbed
    let nodeA: Hypervisor

    init() async throws {
        testbed = try Testbed.load()
        nodeA = try await Hypervisor.connect(testbed.nodeA, timeout: .seconds(60))
    }

    func guest(
        _ label: String, conf: String = ""
    ) async throws -> (name: String, parameters: [String: String], dir: String) {
        let name = "it-wd-\(label)"
        try await Testbed.remove(name, from: nodeA.connection)
        let dir = try scratchDirectory("wd-\(label)")
        try testbed.guestXML(name).write(toFile: "\(dir)/\(name).xml", atomically: true, encoding: .utf8)
        try conf.write(toFile: "\(dir)/vmmanager.conf", atomically: true, encoding: .utf8)
        return (
            name,
            [
                "config": "\(dir)/\(name).xml", "state_dir": "\(dir)/state", "lock_dir": "\(dir)/locks",
                "quarantine_dir": "\(dir)/quarantine", "conf_file": "\(dir)/vmmanager.conf",
            ], dir
        )
    }

    func nodeBDaemon() throws -> pid_t {
        let file = try testbed.value("TESTBED_DIR") + "/run/nodeB-libvirtd.pid"
        return try #require(
            pid_t(
                try String(contentsOfFile: file, encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// The guest started by the agent on node B: node B, its URI, the agent's parameters there, the UUID.
    func startedOnNodeB(
        _ g: (name: String, parameters: [String: String], dir: String)
    ) async throws
        -> (Hypervisor, String, [String: String], UUID)
    {
        let nodeBURI = try testbed.nodeB()
        let nodeB = try await Hypervisor.connect(nodeBURI, timeout: .seconds(30))
        try await Testbed.remove(g.name, from: nodeB.connection)
        var p = g.parameters
        p["hypervisor"] = nodeBURI
        let start = try runOCF("start", p)
        try #require(start.status == 0, "\(start.stderr)")
        return (nodeB, nodeBURI, p, try await nodeB.connection.lookupDomain(name: g.name).uuid)
    }

    /// Runs the agent in the background, as Pacemaker's executor would; returns the launcher process.
    func launchOCF(_ action: String, _ parameters: [String: String], meta: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = try ["--pid", "--fork", "--kill-child", "--mount-proc", "--", agentPath, action]
        var env = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf"].merging(sanitizerEnvironment) {
            $1
        }
        for (k, v) in parameters { env["OCF_RESKEY_\(k)"] = v }
        for (k, v) in meta { env["OCF_RESKEY_CRM_meta_\(k)"] = v }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The agent process that `launcher` (unshare) forked.
    func agentChild(of launcher: pid_t) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == launcher { return pid }
        }
        return nil
    }

    // MARK: - Settings that used to crash

    @Test("empty directory settings: every action answers (no crash), stop succeeds, status prints a word")
    func emptyDirectorySettings() async throws {
        let g = try await guest("empty")
        for key in ["lock_dir", "state_dir", "quarantine_dir", "managed_save_dir"] {
            var p = g.parameters
            p[key] = ""
            p["lock_dir"] = key == "lock_dir" ? "" : "\(g.dir)/locks"
            let monitor = try runOCF("monitor", p)
            #expect(monitor.status == 7, "\(key): \(monitor.status) \(monitor.stderr)")
            let stop = try runOCF("stop", p)
            #expect(stop.status == 0, "\(key): \(stop.status) \(stop.stderr)")
            let status = try runHeartbeat(
                [g.parameters["config"]!, "\(key)=", "conf_file=\(g.dir)/vmmanager.conf"], "status")
            #expect(status.stdout == "stopped\n", "\(key): \(status.stdout) \(status.stderr)")
        }
        // The same in the configuration file.
        try "[global]\nlock_dir =\nstate_dir =\n".write(
            toFile: "\(g.dir)/vmmanager.conf", atomically: true, encoding: .utf8)
        #expect(
            try runOCF("monitor", g.parameters.filter { $0.key != "lock_dir" && $0.key != "state_dir" }).status == 7)
    }

    // MARK: - Start

    @Test("a guest started outside the agent: start returns only once it is ready, and reports it up")
    func startOfARunningGuestWaitsForReadiness() async throws {
        let g = try await guest("outside")
        let domain = try await nodeA.define(xml: try testbed.guestXML(g.name), pinIdentity: true).domain
        try await domain.start()
        let clock = ContinuousClock()
        let t0 = clock.now
        let start = try runOCF("start", g.parameters, meta: ["timeout": "90000"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(clock.now - t0 > .seconds(1), "it returned at once, before the guest could have booted")
        try await domain.pingAgent(timeout: .seconds(1))  // ready when start returned: no waiting here
        #expect(
            start.stderr.contains("transition=up") && start.stderr.contains("started outside the agent"),
            "\(start.stderr)")
        // A second start of the same guest is idempotent and quiet.
        let again = try runOCF("start", g.parameters)
        #expect(again.status == 0 && !again.stderr.contains("transition=up"), "\(again.stderr)")
        try await Testbed.remove(g.name, from: nodeA.connection)
    }

    @Test("a hung guest (CPU halted, agent silent) is not saved on stop: the next start boots it fresh")
    func hungGuestIsNotSaved() async throws {
        let g = try await guest("hung")
        #expect(try runOCF("start", g.parameters).status == 0)
        let qemu = try #require(GuestProcess(guest: g.name, uuid: nil, hypervisor: testbed.nodeA).find())
        kill(qemu, SIGSTOP)
        defer { kill(qemu, SIGCONT) }
        let monitor = try runOCF("monitor", g.parameters, environment: ["OCF_CHECK_LEVEL": "10"])
        #expect(monitor.status == 1, "\(monitor.stderr)")
        let stop = try runOCF("stop", g.parameters, meta: ["timeout": "25000"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(stop.stderr.contains("not saving a failed guest"), "\(stop.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(g.dir)/\(g.name).state"))
        let start = try runOCF("start", g.parameters)
        #expect(start.status == 0 && start.stderr.contains("transition=up"), "\(start.stderr)")
        #expect(try await nodeA.connection.lookupDomain(name: g.name).state().isRunningBooted)
        try await Testbed.remove(g.name, from: nodeA.connection)
    }

    // MARK: - libvirtd hangs mid-action

    @Test("libvirtd hung during start's boot wait: start fails within its operation timeout")
    func startEndsWithinItsBudgetWhenLibvirtdHangs() async throws {
        let g = try await guest("hang-start")
        let nodeBURI = try testbed.nodeB()
        let nodeB = try await Hypervisor.connect(nodeBURI, timeout: .seconds(30))
        try await Testbed.remove(g.name, from: nodeB.connection)
        var p = g.parameters
        p["hypervisor"] = nodeBURI
        let daemon = try nodeBDaemon()
        let clock = ContinuousClock()
        let t0 = clock.now
        let launcher = try launchOCF("start", p, meta: ["timeout": "20000"])
        // Hang the daemon while the guest boots (the boot wait takes ~5 s on this machine).
        try await Task.sleep(for: .seconds(3))
        kill(daemon, SIGSTOP)
        defer { kill(daemon, SIGCONT) }
        while launcher.isRunning && clock.now - t0 < .seconds(40) { try await Task.sleep(for: .milliseconds(50)) }
        let took = clock.now - t0
        kill(daemon, SIGCONT)
        #expect(!launcher.isRunning, "start still runs after \(took)")
        #expect(took < .seconds(20), "start took \(took) with a 20 s operation timeout")
        try await Task.sleep(for: .seconds(1))
        try await Testbed.remove(g.name, from: nodeB.connection)
    }

    @Test("libvirtd hung: monitor answers from the QEMU process in time; stop kills that process within its budget")
    func monitorAndStopWhenLibvirtdHangs() async throws {
        let g = try await guest("hang-stop")
        let (nodeB, nodeBURI, p, uuid) = try await startedOnNodeB(g)
        let qemu = try #require(GuestProcess(guest: g.name, uuid: uuid, hypervisor: nodeBURI).find())
        let daemon = try nodeBDaemon()
        kill(daemon, SIGSTOP)
        defer { kill(daemon, SIGCONT) }
        let clock = ContinuousClock()
        var t0 = clock.now
        // The monitor runs in this PID namespace, where the testbed's QEMU processes are (a monitor only
        // reads); on a real node the agent, libvirtd and QEMU share the node's namespace.
        var env = [
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESKEY_CRM_meta_timeout": "10000", "OCF_RESKEY_CRM_meta_interval": "10000",
        ]
        .merging(sanitizerEnvironment) { $1 }
        for (k, v) in p { env["OCF_RESKEY_\(k)"] = v }
        let monitor = try run(agentPath, ["monitor"], environment: env)
        #expect(monitor.status == 0, "\(monitor.stderr)")
        #expect(clock.now - t0 < .seconds(10), "monitor took \(clock.now - t0) with a 10 s timeout")
        // The stop path runs in a PID namespace of its own (the project's rule), which cannot see the
        // testbed's QEMU processes: here it proves the budget; the kill itself is the same GuestProcess.kill
        // that its last resort calls, run below from this namespace.
        t0 = clock.now
        let stop = try runOCF("stop", p, meta: ["timeout": "20000"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(clock.now - t0 < .seconds(20), "stop took \(clock.now - t0) with a 20 s timeout")
        #expect(await GuestProcess(guest: g.name, uuid: uuid, hypervisor: nodeBURI).kill(timeout: .seconds(5)))
        // Killed: at most a zombie until the (stopped) daemon's side reaps it, and no longer found.
        #expect(GuestProcess(guest: g.name, uuid: uuid, hypervisor: nodeBURI).find() == nil)
        let state = (try? String(contentsOfFile: "/proc/\(qemu)/stat", encoding: .utf8))?
            .split(separator: ")").last?.split(separator: " ").first
        #expect(state == nil || state == "Z", "the guest's QEMU process survived (state \(state ?? "-"))")
        kill(daemon, SIGCONT)
        try await Task.sleep(for: .seconds(1))
        try await Testbed.remove(g.name, from: nodeB.connection)
    }

    @Test("migrate_to with the destination's libvirtd hung: returns within its timeout, the guest runs on here")
    func migrateEndsWithinItsBudgetWhenTheDestinationHangs() async throws {
        let g = try await guest("hang-migrate")
        let nodeBURI = try testbed.nodeB()
        let nodeB = try await Hypervisor.connect(nodeBURI, timeout: .seconds(30))
        try await Testbed.remove(g.name, from: nodeB.connection)
        #expect(try runOCF("start", g.parameters).status == 0)
        var p = g.parameters
        p["remoteuri"] = nodeBURI
        p["migrateuri"] = try testbed.nodeBMigrateURI()
        p["migration_speed"] = "2"  // MiB/s: the migration is still running when the daemon hangs
        let daemon = try nodeBDaemon()
        let clock = ContinuousClock()
        let t0 = clock.now
        let launcher = try launchOCF("migrate_to", p, meta: ["timeout": "20000", "migrate_target": "nodeB"])
        try await Task.sleep(for: .seconds(2))
        kill(daemon, SIGSTOP)
        defer { kill(daemon, SIGCONT) }
        while launcher.isRunning && clock.now - t0 < .seconds(60) { try await Task.sleep(for: .milliseconds(50)) }
        let took = clock.now - t0
        kill(daemon, SIGCONT)
        #expect(!launcher.isRunning && launcher.terminationStatus == 1, "migrate_to: \(launcher.terminationStatus)")
        #expect(took < .seconds(20), "migrate_to took \(took) with a 20 s operation timeout")
        // Once node B answers again, libvirt settles the aborted job: the guest runs here, exactly once.
        var here = false
        for _ in 0..<100 {
            here = (try? await nodeA.connection.lookupDomain(name: g.name).state().kind) == .running
            let thereDomain = (try? await nodeB.connection.domainIfExists(name: g.name)) ?? nil
            var there = false
            if let thereDomain { there = (try? await thereDomain.isActive()) == true }
            if here && !there { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(here, "the guest no longer runs on node A")
        try await Testbed.remove(g.name, from: nodeB.connection)
        try await Testbed.remove(g.name, from: nodeA.connection)
    }

    // MARK: - The resource's guest

    @Test("the XML replaced by another guest's while the guest runs: monitor 6 naming both; stop stops ours")
    func replacedXMLKeepsMeaningTheStartedGuest() async throws {
        let g = try await guest("original")
        let env = ["OCF_RESOURCE_INSTANCE": "wd-res"]
        #expect(try runOCF("start", g.parameters, environment: env).status == 0)
        try testbed.guestXML("it-wd-other").write(toFile: g.parameters["config"]!, atomically: true, encoding: .utf8)
        let monitor = try runOCF("monitor", g.parameters, environment: env)
        #expect(monitor.status == 6, "\(monitor.stderr)")
        #expect(
            monitor.stderr.contains("it-wd-original") && monitor.stderr.contains("it-wd-other"), "\(monitor.stderr)")
        let stop = try runOCF("stop", g.parameters, meta: ["timeout": "30000"], environment: env)
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(try await !nodeA.connection.lookupDomain(name: g.name).isActive(), "the started guest still runs")
        try await Testbed.remove(g.name, from: nodeA.connection)
    }

    @Test("a configuration broken before stop: stop keeps its lock_dir, state_dir and [notify], and reports down")
    func brokenConfigurationDuringStop() async throws {
        let g = try await guest("broken-conf")
        let good = """
            [global]
            lock_dir = \(g.dir)/conf-locks
            state_dir = \(g.dir)/conf-state
            [notify]
            spool_dir = \(g.dir)/spool
            mail_to = admins@example.org
            smtp_url = smtp://127.0.0.1:9
            smtp_starttls = no
            """
        try good.write(toFile: "\(g.dir)/vmmanager.conf", atomically: true, encoding: .utf8)
        let p = g.parameters.filter { !["lock_dir", "state_dir"].contains($0.key) }
        #expect(try runOCF("start", p).status == 0)
        try (good + "\nreadiness = sometimes\nno equals sign here\n")
            .write(toFile: "\(g.dir)/vmmanager.conf", atomically: true, encoding: .utf8)
        #expect(try runOCF("start", p).status == 6, "start refuses a broken configuration")
        let stop = try runOCF("stop", p, meta: ["timeout": "30000"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(stop.stderr.contains("configuration error"), "\(stop.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(g.dir)/conf-locks/\(g.name).lock"), "another lock was taken")
        let history = (try? String(contentsOfFile: "\(g.dir)/spool/.history/\(g.name).jsonl", encoding: .utf8)) ?? ""
        #expect(history.contains("\"down\""), "no down recorded: \(history)")
        try await Testbed.remove(g.name, from: nodeA.connection)
    }

    @Test("a stop killed mid-save: the next stop reports the down it could not, and no half-saved image is restored")
    func stopKilledMidSave() async throws {
        let g = try await guest("killed-stop")
        #expect(try runOCF("start", g.parameters).status == 0)
        let launcher = try launchOCF("stop", g.parameters, meta: ["timeout": "60000"])
        // Freeze the agent as soon as libvirt starts writing the image, let libvirt finish, then kill it:
        // the guest is down, and the agent never reported it.
        var frozen: pid_t?
        for _ in 0..<1000 where frozen == nil {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: g.dir)) ?? []
            if names.contains(where: { $0.hasPrefix(".tmp-\(g.name).state") }),
                let agent = agentChild(of: launcher.processIdentifier)
            {
                kill(agent, SIGSTOP)
                frozen = agent
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let agent = try #require(frozen, "the save never started")
        let d = try await nodeA.connection.lookupDomain(name: g.name)
        for _ in 0..<200 where try await d.isActive() { try await Task.sleep(for: .milliseconds(50)) }
        kill(agent, SIGKILL)
        launcher.waitUntilExit()
        #expect(try await !d.isActive())
        #expect(!FileManager.default.fileExists(atPath: "\(g.dir)/\(g.name).state"), "the image was committed")

        let stop = try runOCF("stop", g.parameters)
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(stop.stderr.contains("transition=down") && stop.stderr.contains("interrupted"), "\(stop.stderr)")
        // The uncommitted image is never restored; once it has sat idle (aged here by hand), the next start
        // moves it to quarantine instead of leaving it beside the XML.
        let temporary = try #require(
            try FileManager.default.contentsOfDirectory(atPath: g.dir)
                .first { $0.hasPrefix(".tmp-\(g.name).state") })
        var times = [timeval(tv_sec: time(nil) - 3600, tv_usec: 0), timeval(tv_sec: time(nil) - 3600, tv_usec: 0)]
        #expect(utimes("\(g.dir)/\(temporary)", &times) == 0)
        let start = try runOCF("start", g.parameters)
        #expect(start.status == 0 && start.stderr.contains("transition=up"), "\(start.stderr)")
        #expect(!start.stderr.contains("resumed-from-saved"))
        #expect(
            start.stderr.contains("transition=stale-image-discarded") && start.stderr.contains("interrupted"),
            "\(start.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(g.dir)/\(temporary)"))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: "\(g.dir)/quarantine")
                .contains { $0.hasPrefix(temporary) }, "not kept in quarantine")
        try await Testbed.remove(g.name, from: nodeA.connection)
    }

    @Test("the QEMU-process fallback sees only this node's libvirtd and this guest's UUID")
    func qemuFallbackIsTiedToItsLibvirtd() async throws {
        let g = try await guest("tied")
        let (nodeB, nodeBURI, _, uuid) = try await startedOnNodeB(g)
        #expect(GuestProcess(guest: g.name, uuid: uuid, hypervisor: nodeBURI).find() != nil)
        #expect(
            GuestProcess(guest: g.name, uuid: uuid, hypervisor: testbed.nodeA).find() == nil,
            "node A's fallback sees node B's guest")
        #expect(GuestProcess(guest: g.name, uuid: UUID(), hypervisor: nodeBURI).find() == nil, "another UUID matched")
        // A stop on node A, with libvirt answering that the guest is not there, kills nothing of node B's.
        #expect(try runOCF("stop", g.parameters).status == 0)
        #expect(try await nodeB.connection.lookupDomain(name: g.name).isActive())
        try await Testbed.remove(g.name, from: nodeB.connection)
    }

    // MARK: - Bad input

    @Test("errors quote no line of a file that is not ours, nor a flood; odd names never fail a stop")
    func badInputGetsShortSafeErrors() async throws {
        let g = try await guest("input")
        try "root:$6$verysecrethash:19000:0:99999:7:::\n".write(
            toFile: "\(g.dir)/shadow", atomically: true, encoding: .utf8)
        var p = g.parameters
        p["conf_file"] = "\(g.dir)/shadow"
        let secret = try runOCF("validate-all", p)
        #expect(secret.status == 6 && !secret.stderr.contains("verysecret"), "\(secret.stderr)")
        // A 20 MB value (in the file: the environment cannot carry one).
        try ("[global]\nreadiness = " + String(repeating: "x", count: 20_000_000) + "\n")
            .write(toFile: "\(g.dir)/flood.conf", atomically: true, encoding: .utf8)
        p = g.parameters
        p["conf_file"] = "\(g.dir)/flood.conf"
        let flood = try runOCF("validate-all", p)
        #expect(flood.status == 6 && flood.stderr.utf8.count < 4096, "\(flood.stderr.utf8.count) bytes of stderr")
        // A guest no libvirt can have: stop succeeds (heartbeat reboots a node whose stop keeps failing).
        let long = String(repeating: "g", count: 10_000)
        #expect(
            try runHeartbeat(
                [
                    long, "conf_file=\(g.dir)/vmmanager.conf", "state_dir=\(g.dir)/state",
                    "lock_dir=\(g.dir)/locks",
                ], "stop"
            ).status == 0)
        // A line break in a v1 guest name never starts a forged log line.
        let forged = try runHeartbeat(
            [
                "web1\ntransition=up guest=forged", "conf_file=\(g.dir)/vmmanager.conf",
                "state_dir=\(g.dir)/state", "lock_dir=\(g.dir)/locks",
            ], "stop")
        #expect(forged.status == 0, "\(forged.stderr)")
        #expect(!forged.stderr.split(separator: "\n").contains { $0.hasPrefix("transition=") }, "\(forged.stderr)")
        // A byte order mark does not break line 1.
        try "\u{FEFF}[global]\nreadiness = none\n".write(toFile: "\(g.dir)/bom.conf", atomically: true, encoding: .utf8)
        p = g.parameters
        p["conf_file"] = "\(g.dir)/bom.conf"
        #expect(try runOCF("validate-all", p).status == 0)
        // A lock directory that cannot be created: a sentence, not a dump.
        try "x".write(toFile: "\(g.dir)/not-a-dir", atomically: true, encoding: .utf8)
        p = g.parameters
        p["lock_dir"] = "\(g.dir)/not-a-dir/locks"
        let lock = try runOCF("start", p)
        #expect(
            lock.status == 1 && lock.stderr.contains("lock directory") && !lock.stderr.contains("CocoaError"),
            "\(lock.stderr)")
    }
}
