import Foundation
import IntegrationSupport
import Libvirt
import Testing
import VMManager

/// The agent on real containers (libvirt LXC), mostly in node B's libvirtd: the testbed's container is a shell as
/// init that serves a TCP echo port on its node's addresses (testbed/container/domain-xml.sh).
@Suite("Resource agent on real containers", .serialized, .enabled(if: Testbed.isRequested, "run through `make test`"))
struct ContainerTests {
    let testbed: Testbed
    let uri: String
    let address: String
    let host: Hypervisor

    init() async throws {
        testbed = try Testbed.load()
        uri = try testbed.value("NODE_B_LXC_URI")
        address = try testbed.value("NODE_B_ADDR")
        host = try await Hypervisor.connect(uri, timeout: .seconds(30))
    }

    /// A container XML (serving `port`) in a scratch directory, its configuration, and the OCF parameters.
    func container(
        _ label: String, port: Int, conf: String = "[global]\nshutdown_mode = signal\n"
    ) async throws -> (name: String, parameters: [String: String], dir: String) {
        let name = "it-lxc-\(label)"
        try await Testbed.remove(name, from: host.connection)
        let dir = try scratchDirectory("lxc-\(label)")
        let xml = try run("/bin/bash", [try testbed.value("CONTAINER_XML_SCRIPT"), name, String(port)])
        try #require(xml.status == 0, "\(xml.stderr)")
        try xml.stdout.write(toFile: "\(dir)/\(name).xml", atomically: true, encoding: .utf8)
        try conf.write(toFile: "\(dir)/vmmanager.conf", atomically: true, encoding: .utf8)
        return (
            name,
            [
                "config": "\(dir)/\(name).xml", "hypervisor": uri, "state_dir": "\(dir)/state",
                "lock_dir": "\(dir)/locks", "conf_file": "\(dir)/vmmanager.conf",
                "readiness": "tcp:\(address):\(port)",
            ], dir
        )
    }

    /// Whether the container's echo port answers now.
    func answers(_ port: Int) async -> Bool {
        (try? run("/usr/bin/timeout", ["2", "/bin/bash", "-c", "exec 3<>/dev/tcp/\(address)/\(port)"]))?.status == 0
    }

    /// The agent's monitor from this PID namespace (a monitor only reads; it sees node B's processes here).
    func monitor(_ parameters: [String: String]) throws -> CommandResult {
        var environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf"]
            .merging(sanitizerEnvironment) { $1 }
        for (key, value) in parameters { environment["OCF_RESKEY_\(key)"] = value }
        return try run(agentPath, ["monitor"], environment: environment)
    }

    @Test("start returns only when the container serves; monitor; stop shuts it down; monitor says stopped")
    func startMonitorStop() async throws {
        let c = try await container("life", port: 7101)
        let start = try runOCF("start", c.parameters)
        #expect(start.status == 0, "\(start.stderr)")
        #expect(await answers(7101), "start returned before the container's port answered")
        let domain = try await host.connection.lookupDomain(name: c.name)
        #expect(domain.uuid == StableIdentity.uuid(forName: c.name), "the container's identity is not pinned")
        #expect(try monitor(c.parameters).status == 0)
        let stop = try runOCF("stop", c.parameters, meta: ["timeout": "20000"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(stop.stderr.contains("method=shutdown"), "\(stop.stderr)")
        #expect(try monitor(c.parameters).status == 7)
        // Idempotent: a second stop of a stopped container succeeds.
        #expect(try runOCF("stop", c.parameters).status == 0)
        try await Testbed.remove(c.name, from: host.connection)
    }

    @Test("heartbeat v1, the CVserver group: containers started left to right, each serving when its start returns")
    func heartbeatGroup() async throws {
        // haresources: `node Filesystem::... vmmanager::web/web.xml::hypervisor=lxc...::readiness=tcp:... vmmanager::mail/...`
        let vmDir = try scratchDirectory("lxc-group")
        try
            "[global]\nvm_dir = \(vmDir)\nstate_dir = \(vmDir)/state\nlock_dir = \(vmDir)/locks\nshutdown_mode = signal\n"
            .write(toFile: "\(vmDir)/vmmanager.conf", atomically: true, encoding: .utf8)
        var lines: [(name: String, port: Int, arguments: [String])] = []
        for (label, port) in [("web", 7107), ("mail", 7108)] {
            let name = "it-lxc-\(label)"
            try await Testbed.remove(name, from: host.connection)
            try FileManager.default.createDirectory(atPath: "\(vmDir)/\(name)", withIntermediateDirectories: true)
            let xml = try run("/bin/bash", [try testbed.value("CONTAINER_XML_SCRIPT"), name, String(port)])
            try xml.stdout.write(toFile: "\(vmDir)/\(name)/\(name).xml", atomically: true, encoding: .utf8)
            lines.append(
                (
                    name, port,
                    [
                        "\(name)/\(name).xml", "conf_file=\(vmDir)/vmmanager.conf", "hypervisor=\(uri)",
                        "readiness=tcp:\(address):\(port)",
                    ]
                ))
        }
        for line in lines {
            #expect(try runHeartbeat(line.arguments, "status").stdout == "stopped\n")
            let start = try runHeartbeat(line.arguments, "start")
            #expect(start.status == 0 && start.stdout.isEmpty, "\(start.stderr)")
            #expect(await answers(line.port), "\(line.name) did not serve when its start returned")
        }
        for line in lines { #expect(try runHeartbeat(line.arguments, "status").stdout == "running\n") }
        for line in lines.reversed() {
            let stop = try runHeartbeat(line.arguments, "stop")
            #expect(stop.status == 0 && stop.stdout.isEmpty, "\(stop.stderr)")
            #expect(try runHeartbeat(line.arguments, "status").stdout == "stopped\n")
            #expect(!FileManager.default.fileExists(atPath: "\(vmDir)/\(line.name)/\(line.name).state"))
        }
        for line in lines { try await Testbed.remove(line.name, from: host.connection) }
    }

    @Test("readiness exec: start returns once a command inside the container succeeds; a failing one is named")
    func execReadiness() async throws {
        var c = try await container("exec", port: 7110)
        let marker = "\(c.dir)/ready"
        // Inside the container PID 1 is its init, the shell that printed the readiness line; on the host it is not.
        c.parameters["readiness"] = "exec:test -e \(marker) && grep -q VMMANAGER-GUEST-READY /proc/1/cmdline"
        Thread.detachNewThread {
            sleep(4)
            FileManager.default.createFile(atPath: marker, contents: nil)
        }
        let clock = ContinuousClock()
        let started = clock.now
        let start = try runOCF("start", c.parameters, meta: ["timeout": "30000"])
        let took = clock.now - started
        #expect(start.status == 0, "\(start.stderr)")
        #expect(took >= .seconds(3.5), "start returned after \(took), before the readiness command could succeed")
        #expect(took < .seconds(15), "start took \(took) once the command succeeded at 4 s")
        #expect(try monitor(c.parameters).status == 0)
        #expect(try runOCF("stop", c.parameters, meta: ["timeout": "20000"]).status == 0)

        // A command that never succeeds: the start fails at its timeout and says what the command said.
        c.parameters["readiness"] = "exec:echo not serving yet; exit 3"
        let failed = try runOCF("start", c.parameters, meta: ["timeout": "8000"])
        #expect(failed.status != 0, "\(failed.stderr)")
        #expect(failed.stderr.contains("exited 3: not serving yet"), "\(failed.stderr)")
        _ = try runOCF("stop", c.parameters, meta: ["timeout": "20000"])
        try await Testbed.remove(c.name, from: host.connection)
    }

    @Test("the start guard refuses a container that runs on node B; once it is gone there, node A starts it")
    func startGuardRefusesAContainerOnAPeer() async throws {
        let nodeA = try await Hypervisor.connect(try testbed.value("NODE_A_LXC_URI"), timeout: .seconds(30))
        var c = try await container("guard", port: 7109)
        try await Testbed.remove(c.name, from: nodeA.connection)
        let xml = try String(contentsOfFile: "\(c.dir)/\(c.name).xml", encoding: .utf8)
        let there = try await host.define(xml: xml, pinIdentity: true).domain
        _ = try await host.start(there, readiness: .none, timeout: .seconds(30))
        c.parameters["hypervisor"] = nodeA.connection.uri
        c.parameters["peers"] = uri
        c.parameters["readiness"] = "tcp:127.0.0.1:7109"
        let refused = try runOCF("start", c.parameters)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("running on peer"), "\(refused.stderr)")
        if let here = try await nodeA.connection.domainIfExists(name: c.name) { #expect(try await !here.isActive()) }
        try await Testbed.remove(c.name, from: host.connection)
        let start = try runOCF("start", c.parameters)
        #expect(start.status == 0, "\(start.stderr)")
        #expect(try await nodeA.connection.lookupDomain(name: c.name).uuid == there.uuid, "another identity on node A")
        try await Testbed.remove(c.name, from: nodeA.connection)
    }

    @Test("a container that ignores the shutdown is destroyed within the stop's budget")
    func ignoredShutdownIsDestroyed() async throws {
        // shutdown_mode initctl: the testbed container's shell does not act on it.
        let c = try await container("ignores", port: 7102, conf: "[global]\nshutdown_mode = initctl\n")
        try #require(try runOCF("start", c.parameters).status == 0)
        let clock = ContinuousClock()
        let started = clock.now
        let stop = try runOCF("stop", c.parameters, meta: ["timeout": "20000"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(clock.now - started < .seconds(20), "stop took \(clock.now - started) with a 20 s timeout")
        #expect(stop.stderr.contains("method=destroy"), "\(stop.stderr)")
        #expect(!(await answers(7102)))
        try await Testbed.remove(c.name, from: host.connection)
    }

    @Test("monitor sees a container whose init was killed")
    func killedInit() async throws {
        let c = try await container("killed", port: 7103)
        try #require(try runOCF("start", c.parameters).status == 0)
        let controller = try #require(GuestProcess(guest: c.name, uuid: nil, hypervisor: uri).find())
        #expect(GuestProcess(guest: c.name, uuid: nil, hypervisor: uri).kind == .container)
        let initPID = try #require(GuestProcess.children(of: controller).first)
        kill(initPID, SIGKILL)
        var status: Int32 = 0
        for _ in 0..<50 {
            status = try monitor(c.parameters).status
            if status != 0 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(status == 7, "monitor still said \(status) after the container's init was killed")
        try await Testbed.remove(c.name, from: host.connection)
    }

    @Test("save in a container's stop chain is refused with the reason; migrate_to is refused")
    func noSaveNoMigration() async throws {
        let c = try await container("nosave", port: 7104, conf: "[global]\nstop_methods = save,destroy\n")
        let validate = try runOCF("validate-all", c.parameters)
        #expect(validate.status == 6, "\(validate.stderr)")
        #expect(validate.stderr.contains("container (libvirt LXC)"), "\(validate.stderr)")
        try "[guest \(c.name)]\nconfig = \(c.dir)/\(c.name).xml\nstop_methods = save,destroy\n"
            .write(toFile: "\(c.dir)/check.conf", atomically: true, encoding: .utf8)
        let check = try run(vmctlPath, ["check", "--connect", uri, "--config", "\(c.dir)/check.conf"])
        #expect(check.status != 0, "vmctl check accepted save for a container: \(check.stdout)")
        #expect((check.stdout + check.stderr).contains("container (libvirt LXC)"), "\(check.stdout)\(check.stderr)")

        let movable = try await container("nomigrate", port: 7105)
        try #require(try runOCF("start", movable.parameters).status == 0)
        var source = movable.parameters
        source["remoteuri"] = testbed.nodeA
        let to = try runOCF("migrate_to", source, meta: ["migrate_target": "nodeA", "timeout": "20000"])
        #expect(to.status == 1, "\(to.stderr)")
        #expect(to.stderr.contains("cannot be live-migrated"), "\(to.stderr)")
        #expect(try monitor(movable.parameters).status == 0, "the container no longer runs after a refused migrate_to")
        try await Testbed.remove(movable.name, from: host.connection)
    }

    /// Node B's libvirtd, which these tests stop (SIGSTOP) to play a hung daemon.
    func nodeBDaemon() throws -> pid_t {
        let file = try testbed.value("TESTBED_DIR") + "/run/nodeB-libvirtd.pid"
        return try #require(
            pid_t(try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// The namespace descriptors this process holds open ("net:[4026531840]", …; pipes and sockets excluded).
    static func namespaceDescriptors() -> Int {
        let kinds: Set<Substring> = ["mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time"]
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { fd in
            guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
                let kind = link.split(separator: ":").first
            else { return false }
            return kinds.contains(kind) && link.hasSuffix("]")
        }.count
    }

    @Test("namespaces asked of a hung libvirtd: the call times out; the descriptors it sends later are closed")
    func lateNamespacesAreClosed() async throws {
        let c = try await container("late-ns", port: 7111)
        try #require(try runOCF("start", c.parameters).status == 0)
        let domain = try await host.connection.lookupDomain(name: c.name)
        do {
            let opened = try await domain.openNamespaces(timeout: .seconds(10))
            #expect(opened.namespaces.contains { $0.kind == "net" && $0.canBeEntered })
        }
        let before = Self.namespaceDescriptors()
        let daemon = try nodeBDaemon()
        kill(daemon, SIGSTOP)
        var stopped = true
        defer { if stopped { kill(daemon, SIGCONT) } }
        let clock = ContinuousClock()
        let asked = clock.now
        do {
            _ = try await domain.openNamespaces(timeout: .seconds(1))
            Issue.record("a stopped libvirtd answered")
        } catch { #expect(error.code == .timedOut, "\(error)") }
        #expect(clock.now - asked < .seconds(3))
        kill(daemon, SIGCONT)
        stopped = false
        // libvirtd now answers the abandoned call; an answer on the same connection after it means the late
        // descriptors have arrived (and, received by no one, must have been closed).
        _ = try await domain.state()
        _ = try await domain.openNamespaces(timeout: .seconds(10))
        try await Task.sleep(for: .milliseconds(500))
        #expect(Self.namespaceDescriptors() == before, "descriptors of the abandoned call are still open")
        try await Testbed.remove(c.name, from: host.connection)
    }

    @Test("libvirtd hung: the last resort kills the container's controller and its init")
    func lastResortWhenLibvirtdHangs() async throws {
        let c = try await container("hung", port: 7106)
        try #require(try runOCF("start", c.parameters).status == 0)
        let process = GuestProcess(guest: c.name, uuid: nil, hypervisor: uri)
        let controller = try #require(process.find())
        let initPID = try #require(GuestProcess.children(of: controller).first)
        let daemon = try nodeBDaemon()
        kill(daemon, SIGSTOP)
        defer { kill(daemon, SIGCONT) }
        // The monitor, libvirt unreachable, judges by the controller: running.
        #expect(try monitor(c.parameters.merging(["CRM_meta_timeout": "5000"]) { $1 }).status == 0)
        // The kill the stop's last resort runs (the stop itself runs in a PID namespace of its own, which
        // cannot see node B's processes; WorstDayTests proves its budget).
        #expect(await process.kill(timeout: .seconds(5)))
        #expect(process.find() == nil)
        var initGone = false
        for _ in 0..<50 {
            let stat = (try? String(contentsOfFile: "/proc/\(initPID)/stat", encoding: .utf8)) ?? ""
            initGone = stat.isEmpty || stat.split(separator: ")").last?.split(separator: " ").first == "Z"
            if initGone { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(initGone, "the container's init survived")
        kill(daemon, SIGCONT)
        try await Task.sleep(for: .seconds(1))
        try await Testbed.remove(c.name, from: Hypervisor.connect(uri, timeout: .seconds(30)).connection)
    }
}
