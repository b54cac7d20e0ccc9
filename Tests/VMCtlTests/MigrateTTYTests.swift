import Foundation
import IntegrationSupport
import Libvirt
import Testing
import VMManager

/// `vmctl migrate` as a person at a terminal sees it: a progress bar, and Ctrl-C that aborts cleanly.
@Suite("vmctl migrate on a terminal", .serialized, .enabled(if: Testbed.isRequested, "run through `make test`"))
struct MigrateTTYTests {
    let testbed: Testbed
    let nodeA: Hypervisor
    let nodeB: Hypervisor

    init() async throws {
        testbed = try Testbed.load()
        nodeA = try await Hypervisor.connect(testbed.nodeA, timeout: .seconds(60))
        nodeB = try await Hypervisor.connect(try testbed.nodeB(), timeout: .seconds(60))
    }

    var ptyRun: String { packageRoot + "/Tests/Fixtures/pty_run.py" }

    func runningGuest(_ label: String) async throws -> Domain {
        try await Testbed.remove("it-\(label)", from: nodeB.connection)
        let d = try await testbed.freshGuest(label, on: nodeA)
        _ = try await nodeA.start(d, readiness: .guestAgent, timeout: .seconds(90))
        return d
    }

    @Test("a progress bar is drawn on a pseudo-terminal, and the downtime is reported")
    func progressBarOnATTY() async throws {
        let d = try await runningGuest("tty-bar")
        // 40 MiB/s for a 128 MiB guest: a few seconds, long enough for several redraws.
        let r = try run(
            "/usr/bin/python3",
            [
                ptyRun, "--", vmctlBinary, "--connect", testbed.nodeA, "migrate", d.name,
                try testbed.nodeB(), "--migrate-uri", try testbed.nodeBMigrateURI(),
                "--bandwidth", "40",
            ])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.contains("\(d.name) ["), "no progress bar in: \(r.stdout.debugDescription)")
        #expect(r.stdout.contains("% "), "no percentage in: \(r.stdout.debugDescription)")
        #expect(r.stdout.contains("MiB left"))
        #expect(r.stdout.contains("downtime"))
        #expect(try await nodeB.connection.lookupDomain(name: d.name).state().kind == .running)
        try await Testbed.remove(d.name, from: nodeB.connection)
        try await Testbed.remove(d.name, from: nodeA.connection)
    }

    @Test("no progress bar when stderr is not a terminal")
    func noBarWhenPiped() async throws {
        let d = try await runningGuest("tty-pipe")
        let r = try run(
            vmctlBinary,
            [
                "--connect", testbed.nodeA, "migrate", d.name, try testbed.nodeB(),
                "--migrate-uri", try testbed.nodeBMigrateURI(), "--bandwidth", "40",
            ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("MiB left") && !r.stderr.contains("\u{1B}"))
        try await Testbed.remove(d.name, from: nodeB.connection)
        try await Testbed.remove(d.name, from: nodeA.connection)
    }

    @Test("Ctrl-C aborts the migration job; the guest keeps running at the source")
    func ctrlCAborts() async throws {
        let d = try await runningGuest("tty-abort")
        // 2 MiB/s: the migration cannot finish before the interrupt 2 s in.
        let r = try run(
            "/usr/bin/python3",
            [
                ptyRun, "--sigint-after", "2", "--", vmctlBinary, "--connect", testbed.nodeA,
                "migrate", d.name, try testbed.nodeB(), "--migrate-uri",
                try testbed.nodeBMigrateURI(), "--bandwidth", "2",
            ])
        #expect(r.status == 130, "\(r.stdout)")
        #expect(r.stdout.contains("aborted by Ctrl-C"), "\(r.stdout)")
        #expect(try await d.state().kind == .running)
        try await d.pingAgent(timeout: .seconds(10))
        if let there = try await nodeB.connection.domainIfExists(name: d.name) { #expect(try await !there.isActive()) }
        try await Testbed.remove(d.name, from: nodeB.connection)
        try await Testbed.remove(d.name, from: nodeA.connection)
    }
}
