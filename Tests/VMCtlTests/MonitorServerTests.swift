import AgentWire
import Foundation
import IntegrationSupport
import Libvirt
import Logging
import Testing
import VMManager
import VMManagerDelivery

/// The agent's front and `vmctl watch`'s monitor server, against libvirt's test driver: a monitor answered by
/// watch is the full agent's answer, and without watch the front runs the full agent.
@Suite("Monitor through vmctl watch", .serialized)
struct MonitorServerTests {
    /// A private node: a configuration whose [global] lock_dir is the test's own, so watch's socket is too.
    struct Node {
        let dir: String
        let config: String
        var socket: String { "\(dir)/locks/monitor.sock" }

        init(_ label: String) throws {
            dir = try scratchDirectory(label)
            try FileManager.default.createDirectory(atPath: "\(dir)/locks", withIntermediateDirectories: true)
            config = try writeConfig(
                "[global]\nlock_dir = \(dir)/locks\nstate_dir = \(dir)/state\n"
                    + "[notify]\nspool_dir = \(dir)/spool\n", in: dir)
        }

        /// The OCF environment of a monitor of `domain` on test:///default.
        func ocf(_ domain: String, trace: Bool = true) -> [String: String] {
            var env = [
                "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf",
                "OCF_RESOURCE_INSTANCE": "vm-\(domain)", "OCF_RESKEY_domain": domain,
                "OCF_RESKEY_hypervisor": "test:///default", "OCF_RESKEY_conf_file": config,
                "OCF_RESKEY_CRM_meta_timeout": "20000", "OCF_RESKEY_CRM_meta_interval": "10000",
                "OCF_CHECK_LEVEL": "0",
            ].merging(sanitizerEnvironment) { $1 }
            if trace { env["VMMANAGER_TRACE"] = "1" }
            return env
        }

        func watch() async throws -> Background {
            let watch = try Background(["watch", "--connect", "test:///default", "--config", config, "-v"])
            try await watch.waitUntil("the monitor server to listen") {
                watch.stderr.contains("monitor server listening")
            }
            return watch
        }
    }

    var fullAgent: String { get throws { try fullAgentPath } }

    @Test("a monitor answered by watch has the full agent's exit code and output: running 0, not running 7")
    func answeredByWatch() async throws {
        let node = try Node("mon-watch")
        let watch = try await node.watch()
        for (domain, code) in [("test", Int32(0)), ("no-such-guest", Int32(7))] {
            let front = try run(agentPath, ["monitor"], environment: node.ocf(domain))
            let full = try run(fullAgent, ["monitor"], environment: node.ocf(domain))
            #expect(front.status == code, "\(front.stderr)")
            #expect(full.status == code, "\(full.stderr)")
            #expect(front.stdout == full.stdout)
            #expect(front.stderr.contains("vmmanager: answered by vmctl watch"), "\(front.stderr)")
            #expect(front.stderr.replacing("vmmanager: answered by vmctl watch\n", with: "") == full.stderr)
        }
        // heartbeat v1's status: the one word on stdout.
        let arguments = ["test", "hypervisor=test:///default", "conf_file=\(node.config)", "status"]
        let hb = try run(agentPath, arguments, environment: ["VMMANAGER_TRACE": "1"])
        #expect(hb.status == 0 && hb.stdout == "running\n", "\(hb.stdout)\(hb.stderr)")
        #expect(hb.stderr.contains("answered by vmctl watch"), "\(hb.stderr)")
        try await watch.waitUntil("watch to log the answers") {
            watch.stderr.components(separatedBy: "answered a monitor").count == 4
        }
        _ = try await watch.stop(with: SIGTERM)
        #expect(!FileManager.default.fileExists(atPath: node.socket), "watch left its socket behind")
    }

    @Test("without watch, or with a stale socket, the front runs the full agent and answers the same")
    func fallsBack() async throws {
        let node = try Node("mon-fallback")
        for stale in [false, true] {
            if stale {
                // A socket nobody listens on: refused.
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_un()
                let length = try #require(MonitorSocket.fill(&address, node.socket))
                _ = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
                }
                close(fd)
            }
            for (domain, code) in [("test", Int32(0)), ("no-such-guest", Int32(7))] {
                let front = try run(agentPath, ["monitor"], environment: node.ocf(domain))
                let full = try run(fullAgent, ["monitor"], environment: node.ocf(domain))
                #expect(front.status == code && full.status == code, "\(front.stderr)")
                #expect(front.stdout == full.stdout)
                #expect(
                    front.stderr.contains("vmmanager: running the full agent: no server at \(node.socket)"),
                    "\(front.stderr)")
            }
        }
        // watch replaces the stale socket.
        let watch = try await node.watch()
        let front = try run(agentPath, ["monitor"], environment: node.ocf("test"))
        #expect(front.status == 0 && front.stderr.contains("answered by vmctl watch"), "\(front.stderr)")
        _ = try await watch.stop(with: SIGTERM)
    }

    @Test("watch's socket is mode 0600; actions other than monitors are left to the full agent")
    func onlyMonitors() async throws {
        let node = try Node("mon-only")
        let watch = try await node.watch()
        let mode = try #require(
            try FileManager.default.attributesOfItem(atPath: node.socket)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let metaData = try run(agentPath, ["meta-data"], environment: node.ocf("test"))
        #expect(metaData.status == 0 && metaData.stdout.contains("<resource-agent name=\"guest\""))
        #expect(!metaData.stderr.contains("answered by vmctl watch"))
        let version = try run(agentPath, ["--version"], environment: [:])
        #expect(version.stdout == "vmmanager \(vmmanagerVersion)\n")
        // A request the server must not answer: it says "fall back".
        let fd = try #require(MonitorSocket.connect(node.socket))
        defer { close(fd) }
        let deadline = ContinuousClock.now + .seconds(5)
        #expect(
            MonitorSocket.send(
                MonitorWire.Request(arguments: ["start"], environment: node.ocf("test")).encoded(),
                to: fd, deadline: deadline))
        let payload = try #require(MonitorSocket.receiveFrame(from: fd, deadline: deadline))
        #expect(MonitorWire.Response(payload: payload) == .fallBack(reason: "not a monitor"))
        _ = try await watch.stop(with: SIGTERM)
    }

    @Test("the server's monitors share one libvirt connection, and each still asks libvirt")
    func monitorsShareOneConnection() async throws {
        let node = try Node("mon-reuse")
        let server = MonitorServer(path: node.socket, logger: Logger(label: "test"))
        for (domain, code) in [("test", Int32(0)), ("no-such-guest", Int32(7)), ("test", Int32(0))] {
            let answer = await server.answer(MonitorWire.Request(arguments: ["monitor"], environment: node.ocf(domain)))
            guard case .answer(let got, _, let err) = answer else {
                Issue.record("the server did not answer: \(answer)")
                continue
            }
            #expect(got == code, "\(domain): \(err)")
        }
        #expect(server.connections.openedCount == 1)
        // Outside the server, agent code opens its own connections.
        #expect(SharedConnections.current == nil)
    }

    @Test("a deadline handed on by the front bounds the agent's budget")
    func handedDeadline() async throws {
        let environment = [HandedDeadline.variable: HandedDeadline.value(after: .seconds(3))]
            .merging(["OCF_RESKEY_CRM_meta_timeout": "20000"]) { $1 }
        let left = AgentInvocation(arguments: ["monitor"], environment: environment).operationTimeout
        #expect(left <= .seconds(3) && left > .seconds(2), "\(left)")
        let passed = [HandedDeadline.variable: String(HandedDeadline.now() - 1)]
        #expect(HandedDeadline.remaining(passed) == .zero)
        #expect(HandedDeadline.remaining(["HOME": "/"]) == nil)
        #expect(HandedDeadline.remaining([HandedDeadline.variable: "soon"]) == nil)
        // Past its deadline the agent's monitor has no time left: it fails at once instead of overrunning.
        let node = try Node("mon-deadline")
        var late = node.ocf("test")
        late[HandedDeadline.variable] = String(HandedDeadline.now())
        let clock = ContinuousClock()
        let started = clock.now
        let full = try run(fullAgent, ["monitor"], environment: late)
        #expect(clock.now - started < .seconds(2), "\(full.stderr)")
        #expect(full.status != 0, "\(full.stderr)")
    }

    @Test("the front links no libvirt, libxml2, curl or Foundation")
    func frontLinksNoLibvirt() throws {
        let front = try agentPath
        let ldd = try run("/usr/bin/ldd", [front])
        #expect(ldd.status == 0, "\(ldd.stderr)")
        for library in ["libvirt", "libxml2", "libcurl", "Foundation", "libssl"] {
            #expect(!ldd.stdout.contains(library), "\(front) links \(library):\n\(ldd.stdout)")
        }
        #expect(try run("/usr/bin/ldd", [fullAgent]).stdout.contains("libvirt"))
    }

    @Test("the wire: requests and answers survive encoding; a truncated frame is refused")
    func wire() throws {
        let request = MonitorWire.Request(
            arguments: ["monitor"], environment: ["OCF_RESKEY_domain": "a\nb", "HOME": "/root"])
        #expect(request.environment == ["OCF_RESKEY_domain": "a\nb"])
        let encoded = request.encoded()
        #expect(MonitorWire.Request(payload: Array(encoded.dropFirst(4))) == request)
        #expect(MonitorWire.Request(payload: Array(encoded.dropFirst(4).dropLast())) == nil)
        let answer = MonitorWire.Response.answer(code: 7, standardOutput: "", standardError: "ocf-exit-reason:x\n")
        #expect(MonitorWire.Response(payload: Array(answer.encoded().dropFirst(4))) == answer)
        #expect(MonitorSocket.defaultConfigPath == Parameters.named("conf_file")?.defaultValue)
        #expect(MonitorSocket.defaultLockDirectory == Parameters.named("lock_dir")?.defaultValue)
    }
}

/// The monitor through `vmctl watch` against a real libvirtd that stops answering: the front's answer comes
/// within the operation's timeout (the full agent gets only the time left), and once the daemon answers again,
/// watch's shared connection is replaced and watch answers again.
@Suite(
    "Monitor through vmctl watch, libvirtd hung", .serialized,
    .enabled(if: Testbed.isRequested, "run through `make test`"))
struct MonitorServerHangTests {
    @Test("libvirtd hung: the front answers within the timeout; afterwards watch reconnects and answers")
    func hungDaemon() async throws {
        let testbed = try Testbed.load()
        let nodeBURI = try testbed.nodeB()
        let nodeB = try await Hypervisor.connect(nodeBURI, timeout: .seconds(30))
        let name = "it-mw-hang"
        try await Testbed.remove(name, from: nodeB.connection)
        let dir = try scratchDirectory("mw-hang")
        try FileManager.default.createDirectory(atPath: "\(dir)/locks", withIntermediateDirectories: true)
        try testbed.guestXML(name).write(toFile: "\(dir)/\(name).xml", atomically: true, encoding: .utf8)
        let config = try writeConfig(
            "[global]\nlock_dir = \(dir)/locks\nstate_dir = \(dir)/state\n[notify]\nspool_dir = \(dir)/spool\n",
            in: dir)
        let parameters = [
            "config": "\(dir)/\(name).xml", "hypervisor": nodeBURI, "conf_file": config,
            "state_dir": "\(dir)/state", "lock_dir": "\(dir)/locks",
        ]
        let start = try runOCF("start", parameters)
        try #require(start.status == 0, "\(start.stderr)")
        let watch = try Background(["watch", "--connect", nodeBURI, "--config", config, "-v"])
        try await watch.waitUntil("the monitor server to listen") { watch.stderr.contains("monitor server listening") }
        // The monitor runs in this PID namespace, where the testbed's QEMU processes are (a monitor only reads).
        var environment = [
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": name,
            "OCF_RESKEY_CRM_meta_timeout": "6000", "OCF_RESKEY_CRM_meta_interval": "10000", "VMMANAGER_TRACE": "1",
        ]
        .merging(sanitizerEnvironment) { $1 }
        for (key, value) in parameters { environment["OCF_RESKEY_\(key)"] = value }
        let before = try run(agentPath, ["monitor"], environment: environment)
        #expect(before.status == 0 && before.stderr.contains("answered by vmctl watch"), "\(before.stderr)")

        let daemonFile = try testbed.value("TESTBED_DIR") + "/run/nodeB-libvirtd.pid"
        let daemon = try #require(
            pid_t(
                try String(contentsOfFile: daemonFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        )
        let clock = ContinuousClock()
        let stopped = clock.now
        kill(daemon, SIGSTOP)
        defer { kill(daemon, SIGCONT) }
        let hung = try run(agentPath, ["monitor"], environment: environment)
        let took = clock.now - stopped
        #expect(hung.status == 0, "the guest runs; judged by its QEMU process: \(hung.stderr)")
        #expect(took < .seconds(6), "the monitor took \(took) with a 6 s timeout")
        #expect(hung.stderr.contains("running the full agent: no answer in time"), "\(hung.stderr)")
        // Long enough for keepalive (5 s × 3) to give watch's connection up.
        try await Task.sleep(until: stopped + .seconds(22))
        kill(daemon, SIGCONT)
        var after = try run(agentPath, ["monitor"], environment: environment)
        for _ in 0..<20 where !after.stderr.contains("answered by vmctl watch") {
            try await Task.sleep(for: .milliseconds(500))
            after = try run(agentPath, ["monitor"], environment: environment)
        }
        #expect(after.status == 0 && after.stderr.contains("answered by vmctl watch"), "\(after.stderr)")
        #expect(watch.stderr.contains("no longer works; opening a new one"), "\(watch.stderr)")
        _ = try await watch.stop(with: SIGTERM)
        // This test's own connection was given up by keepalive too.
        try await Testbed.remove(name, from: Hypervisor.connect(nodeBURI, timeout: .seconds(30)).connection)
    }
}
