import FoundationEssentials
import Libvirt

/// Live migration to another node, and waiting on the target for the guest to arrive.
extension GuestController {
    /// Live-migrates the running guest to `target` (a node name), persistent there, within `budget`;
    /// at the deadline the migration is aborted and the guest keeps running here.
    public func migrate(to target: String, budget: Duration) async throws -> MigrationReport {
        try await OperationDeadline.within(budget) { try await migrateGuest(to: target, budget: budget) }
    }

    private func migrateGuest(to target: String, budget: Duration) async throws -> MigrationReport {
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        let name = try requiredGuest().name
        if settings.isContainer {
            // A soft failure: the cluster recovers by stopping the container here and starting it on the target.
            throw VMError(
                .failed,
                "guest \(name) is a container (libvirt LXC), which cannot be live-migrated; it moves by stop and "
                    + "start: set allow-migrate=false on its resource")
        }
        let lock = try await FileLock.acquire(
            guest: name, directory: settings.lockDirectory,
            timeout: budget / 4, purpose: "migrate_to \(target)")
        defer { lock.release() }
        let host = try await connect(timeout: deadline - clock.now)
        let domain = try await host.guest(name)
        let uri = settings.migration.remoteURI(for: target, hypervisor: settings.hypervisor)
        let given = settings.migration.options
        var options = MigrationOptions()
        options.migrateURI = given.tunnelled ? nil : settings.migration.dataURI(for: target)
        if settings.migration.downtimeMilliseconds > 0 {
            options.maxDowntime = .milliseconds(settings.migration.downtimeMilliseconds)
        }
        if settings.migration.speedMiBPerSecond > 0 {
            options.bandwidthMiBPerSecond = UInt64(settings.migration.speedMiBPerSecond)
        } else if let bandwidth = given.bandwidthMiBPerSecond {
            options.bandwidthMiBPerSecond = UInt64(bandwidth)
        }
        options.tunnelled = given.tunnelled
        options.compressed = given.compressed
        options.autoConverge = given.autoConverge
        options.postcopy = given.postcopy
        options.unsafe = given.unsafe
        options.tls = given.tls
        options.parallelConnections = given.parallelConnections
        options.changeProtection = given.changeProtection
        options.listenAddress = given.listenAddress
        options.copyStorage =
            switch given.copyStorage {
            case .all: .all
            case .incremental: .incremental
            case nil: nil
            }
        options.suspendAfter = given.suspendAfterSeconds.map { .seconds($0) }
        options.timeout = max(.seconds(1), deadline - clock.now - .seconds(2))
        let report = try await host.migrate(domain, to: uri, options: options, peerToPeer: given.peerToPeer)
        var t = Transition(
            kind: .migrated, guest: name, uuid: domain.uuid, reason: "migrated to \(target)",
            previousState: "running", newState: report.destinationState.description,
            configPath: settings.configPath)
        t.migrationDowntimeMilliseconds = report.downtimeMilliseconds
        reporter.report(t)
        return report
    }

    /// On the migration target: waits until the guest runs here.
    public func waitForIncoming(budget: Duration) async throws {
        try await OperationDeadline.within(budget) { try await waitForArrival(budget: budget) }
    }

    private func waitForArrival(budget: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        let name = try requiredGuest().name
        memory.remember(name)
        let host = try await connect(timeout: budget)
        while true {
            if let d = try await host.guestIfDefined(name), try await d.state().kind == .running {
                recordComingUp(d, node: await nodeName(host), how: "arrived by migration")
                return
            }
            if clock.now >= deadline {
                throw VMError(.failed, "guest \(name) did not arrive running within \(budget.formattedSeconds)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
