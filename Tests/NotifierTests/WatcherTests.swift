import Foundation
import IntegrationSupport
import Testing
import VMManager

/// The testbed's env file (`make test` sets it); without it these tests are skipped, as the other integration
/// tests are.
let testbedEnvFile = ProcessInfo.processInfo.environment["VMMANAGER_TESTBED"]

/// `vmctl watch` against the testbed's real libvirtd and a real TCG guest.
@Suite(
    "vmctl watch on a real libvirtd", .serialized,
    .enabled(if: testbedEnvFile != nil, "needs the testbed (make test)"))
struct WatcherTests {
    static let guest = "nt-watch"
    static let virsh = "/usr/bin/virsh"

    static func virshRun(_ arguments: [String]) throws -> CommandResult {
        try run(virsh, ["-c", "qemu:///system"] + arguments)
    }

    static func removeGuest() throws {
        _ = try virshRun(["destroy", guest])
        _ = try virshRun(["undefine", guest, "--managed-save"])
    }

    /// The transitions the webhook received, in order.
    static func transitions(_ hook: HTTPReceiver) -> [String] {
        hook.records().compactMap { ($0["json"] as? [String: Any])?["transition"] as? String }
    }

    @Test("crash, shutdown from inside, pause and resume by hand are notified; a cluster action's events are not")
    func outsideTransitions() async throws {
        let scratch = try Scratch("watch")
        let hook = try HTTPReceiver(in: scratch)
        let locks = "\(scratch.path)/locks"
        try FileManager.default.createDirectory(atPath: locks, withIntermediateDirectories: true)
        let config = try scratch.file(
            "vmmanager.conf",
            """
            [global]
            lock_dir = \(locks)
            [notify]
            webhook_url = \(hook.url)
            spool_dir = \(scratch.path)/spool
            [guest \(Self.guest)]
            config = /srv/guests/\(Self.guest).xml
            """, mode: 0o644)
        try Self.removeGuest()
        defer { try? Self.removeGuest() }
        let script = "\(packageRoot)/testbed/guest/domain-xml.sh"
        let xml = try run("/bin/bash", [script, Self.guest])
        try #require(xml.status == 0, "\(xml.stderr)")
        let xmlFile = try scratch.file("guest.xml", xml.stdout)
        try #require(try Self.virshRun(["define", xmlFile]).status == 0)

        let log = "\(scratch.path)/watch.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let watcher = Process()
        watcher.executableURL = try URL(fileURLWithPath: vmctlPath)
        watcher.arguments = [
            "watch", "--connect", "qemu:///system", "--config", config, "--guest", Self.guest,
            "--settle", "1", "--flush-interval", "2", "-v",
        ]
        watcher.standardInput = FileHandle.nullDevice
        watcher.standardOutput = FileHandle.nullDevice
        watcher.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try watcher.run()
        defer { if watcher.isRunning { kill(watcher.processIdentifier, SIGKILL) } }
        let watching = await eventually {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("watching libvirt events")
        }
        try #require(
            watching, "the watcher did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")

        // Started by hand: up (QEMU's own resume at boot is not a second notification).
        #expect(try Self.virshRun(["start", Self.guest]).status == 0)
        #expect(await eventually(timeout: 20) { Self.transitions(hook) == ["up"] }, "\(Self.transitions(hook))")

        // Paused and resumed by hand.
        #expect(try Self.virshRun(["suspend", Self.guest]).status == 0)
        #expect(await eventually(timeout: 20) { Self.transitions(hook).count == 2 })
        #expect(try Self.virshRun(["resume", Self.guest]).status == 0)
        #expect(
            await eventually(timeout: 20) { Self.transitions(hook) == ["up", "paused", "resumed"] },
            "\(Self.transitions(hook))")

        // The same while a cluster action holds the guest's lock: the agent reports those, the watcher not.
        let fd = open("\(locks)/\(Self.guest).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        #expect(flock(fd, LOCK_EX) == 0)
        #expect(try Self.virshRun(["suspend", Self.guest]).status == 0)
        #expect(try Self.virshRun(["resume", Self.guest]).status == 0)
        try await Task.sleep(for: .seconds(3))
        close(fd)
        #expect(Self.transitions(hook).count == 3, "a cluster action was notified: \(Self.transitions(hook))")

        // Shut down from inside the guest (busybox poweroff, started through the guest agent): one notification.
        let agentUp = await eventually(timeout: 60) {
            (try? Self.virshRun(["qemu-agent-command", Self.guest, #"{"execute":"guest-ping"}"#]).status) == 0
        }
        try #require(agentUp, "the guest agent never answered")
        let poweroff = #"{"execute":"guest-exec","arguments":{"path":"/bin/busybox","arg":["poweroff","-f"]}}"#
        #expect(try Self.virshRun(["qemu-agent-command", Self.guest, poweroff]).status == 0)
        #expect(await eventually(timeout: 20) { Self.transitions(hook).count == 4 })

        // Crashed: its QEMU process killed.
        #expect(
            await eventually(timeout: 20) {
                (try? Self.virshRun(["domstate", Self.guest]).stdout.contains("shut off")) == true
            })
        #expect(try Self.virshRun(["start", Self.guest]).status == 0)
        #expect(await eventually(timeout: 20) { Self.transitions(hook).count == 5 })
        let pidText = try String(contentsOfFile: "/run/libvirt/qemu/\(Self.guest).pid", encoding: .utf8)
        let qemu = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(qemu, SIGKILL) == 0)
        #expect(await eventually(timeout: 20) { Self.transitions(hook).count == 6 })
        try await Task.sleep(for: .seconds(2))
        #expect(Self.transitions(hook) == ["up", "paused", "resumed", "shut-down-by-guest", "up", "crashed"])

        let crashed = try #require(hook.records().last?["json"] as? [String: Any])
        #expect(crashed["source"] as? String == "watcher")
        #expect((crashed["guest"] as? [String: Any])?["name"] as? String == Self.guest)
        #expect(crashed["new_state"] as? String == "shut off (crashed)")
        #expect(crashed["previous_state"] as? String == "running (booted)")
        #expect(crashed["config_path"] as? String == "/srv/guests/\(Self.guest).xml")

        // Started again and killed again within seconds: a second failure, notified as such (only the two
        // events of one crash make one notification).
        #expect(try Self.virshRun(["start", Self.guest]).status == 0)
        #expect(await eventually(timeout: 20) { Self.transitions(hook).count == 7 })
        let again = try String(contentsOfFile: "/run/libvirt/qemu/\(Self.guest).pid", encoding: .utf8)
        #expect(kill(try #require(Int32(again.trimmingCharacters(in: .whitespacesAndNewlines))), SIGKILL) == 0)
        #expect(await eventually(timeout: 20) { Self.transitions(hook).count == 8 })
        #expect(Self.transitions(hook).suffix(2) == ["up", "crashed"], "\(Self.transitions(hook))")

        // SIGTERM stops it gracefully.
        watcher.terminate()
        let stopped = await eventually(timeout: 15) { !watcher.isRunning }
        #expect(stopped && watcher.terminationStatus == 0, "status \(watcher.terminationStatus)")
    }
}
