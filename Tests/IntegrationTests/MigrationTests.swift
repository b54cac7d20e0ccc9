import Foundation
import IntegrationSupport
import Libvirt
import Testing
import VMManager

@Suite(
    "Live migration between node A and node B", .serialized,
    .enabled(if: Testbed.isRequested, "run through `make test`"))
struct MigrationTests {
    let testbed: Testbed
    let nodeA: Hypervisor
    let nodeB: Hypervisor

    init() async throws {
        testbed = try Testbed.load()
        nodeA = try await Hypervisor.connect(testbed.nodeA, timeout: .seconds(60))
        nodeB = try await Hypervisor.connect(try testbed.nodeB(), timeout: .seconds(60))
    }

    @Test("the guest runs on node B with the same UUID and MAC, its uptime continued, downtime reported")
    func liveMigrationThereAndBack() async throws {
        try await Testbed.remove("it-migrate", from: nodeB.connection)
        let d = try await testbed.freshGuest("migrate", on: nodeA)
        let mac = try #require(try DomainDefinition(xml: try await d.xml(.inactive)).interfaces.first?.mac)
        _ = try await nodeA.start(d, readiness: .guestAgent, timeout: .seconds(90))
        let before = try await GuestUptime.read(d)

        var options = MigrationOptions()
        options.migrateURI = try testbed.nodeBMigrateURI()
        options.timeout = .seconds(60)
        let progress = ProgressLog()
        let report = try await nodeA.migrate(d, to: try testbed.nodeB(), options: options) { progress.add($0) }
        #expect(report.destinationState.kind == .running)
        let downtime = try #require(report.downtimeMilliseconds, "QEMU reported no downtime")
        #expect(downtime < 5_000)

        let there = try await nodeB.connection.lookupDomain(name: d.name)
        #expect(there.uuid == d.uuid)
        let thereDef = try DomainDefinition(xml: try await there.xml())
        #expect(thereDef.interfaces.first?.mac == mac)
        #expect(try await there.state().isRunningMigrated)
        #expect(try await there.isPersistent())
        #expect(try await d.state().isShutOffMigrated)
        try await there.pingAgent(timeout: .seconds(10))
        let after = try await GuestUptime.read(there)
        #expect(after >= before, "uptime went from \(before) to \(after)")

        // And back to node A (the source kept its definition).
        var back = MigrationOptions()
        back.migrateURI = try testbed.value("NODE_A_MIGRATE_URI")
        back.timeout = .seconds(60)
        let home = try await nodeB.migrate(there, to: testbed.nodeA, options: back)
        #expect(home.destinationState.kind == .running)
        #expect(try await d.state().isRunningMigrated)
        try await Testbed.remove(d.name, from: nodeA.connection)
        try await Testbed.remove(d.name, from: nodeB.connection)
    }

    @Test("a migration that outlives its deadline is aborted and the guest keeps running at the source")
    func migrationAbortedAtDeadline() async throws {
        try await Testbed.remove("it-abort", from: nodeB.connection)
        let d = try await testbed.freshGuest("abort", on: nodeA)
        _ = try await nodeA.start(d, readiness: .guestAgent, timeout: .seconds(90))
        var options = MigrationOptions()
        options.migrateURI = try testbed.nodeBMigrateURI()
        options.bandwidthMiBPerSecond = 1  // 128 MiB at 1 MiB/s cannot finish in 3 s
        options.timeout = .seconds(3)
        options.progressInterval = .milliseconds(200)
        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: VMError.self) {
            _ = try await nodeA.migrate(d, to: try testbed.nodeB(), options: options)
        }
        #expect(error?.code == .timedOut)
        #expect(clock.now - started < .seconds(20))
        #expect(try await d.state().kind == .running)
        try await d.pingAgent(timeout: .seconds(10))
        #expect(try await nodeB.connection.domainIfExists(name: d.name).asyncMap { try await $0.isActive() } != true)
        try await Testbed.remove(d.name, from: nodeA.connection)
        try await Testbed.remove(d.name, from: nodeB.connection)
    }
}

final class ProgressLog: @unchecked Sendable {
    // @unchecked: `entries` is guarded by `lock`.
    private let lock = NSLock()
    private var entries: [JobStats] = []
    func add(_ s: JobStats) { lock.withLock { entries.append(s) } }
    var count: Int { lock.withLock { entries.count } }
}

extension Optional {
    func asyncMap<T>(_ f: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await f(self)
    }
}
