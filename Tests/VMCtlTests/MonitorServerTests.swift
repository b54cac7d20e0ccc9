import AgentWire
import Foundation
import IntegrationSupport
import Testing
import VMManager

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
