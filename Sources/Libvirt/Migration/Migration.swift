import FoundationEssentials
internal import CLibvirt

/// Where a migration goes.
public enum MigrationDestination: Sendable {
    /// The source daemon connects to `uri` itself (`VIR_MIGRATE_PEER2PEER`,
    /// [virDomainMigrateToURI3](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainMigrateToURI3)).
    /// The URI must be reachable from the source host's libvirtd. `statistics`, when given, is a
    /// connection to the destination used to read the final statistics if the source no longer has them.
    case peerToPeer(uri: String, statistics: Connection? = nil)
    /// This process drives both daemons
    /// ([virDomainMigrate3](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainMigrate3)).
    case direct(Connection)

    var description: String {
        switch self {
        case .peerToPeer(let uri, _): uri
        case .direct(let c): c.uri
        }
    }
}

/// How a migration runs. The defaults are those an HA manager wants: live, persistent at the
/// destination, the source definition kept, aborted (guest still running at the source) on timeout.
public struct MigrationOptions: Sendable {
    /// Copy memory while the guest runs (`VIR_MIGRATE_LIVE`); false pauses it during the copy.
    public var live: Bool = true
    /// Move only the definition of a stopped domain (`VIR_MIGRATE_OFFLINE`).
    public var offline: Bool = false
    /// Define the domain persistently at the destination (`VIR_MIGRATE_PERSIST_DEST`).
    public var persistAtDestination: Bool = true
    /// Undefine it at the source afterwards (`VIR_MIGRATE_UNDEFINE_SOURCE`). Off by default: the
    /// source keeps its definition, as a fallback.
    public var undefineSource: Bool = false
    /// Where QEMU sends the memory stream, e.g. `tcp:10.0.0.2:49152` (`VIR_MIGRATE_PARAM_URI`).
    public var migrateURI: String?
    /// Bandwidth cap in MiB/s (`VIR_MIGRATE_PARAM_BANDWIDTH`).
    public var bandwidthMiBPerSecond: UInt64?
    /// Longest pause the guest may see at the switch-over
    /// ([virDomainMigrateSetMaxDowntime](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainMigrateSetMaxDowntime)).
    public var maxDowntime: Duration?
    /// Tunnel the memory stream through the libvirtd connection (`VIR_MIGRATE_TUNNELLED`, peer-to-peer only).
    public var tunnelled: Bool = false
    /// Slow the guest's vCPUs down if memory is dirtied faster than it is sent (`VIR_MIGRATE_AUTO_CONVERGE`).
    public var autoConverge: Bool = false
    /// Migrate even if libvirt thinks disks are unsafe to share (`VIR_MIGRATE_UNSAFE`).
    public var unsafe: Bool = false
    /// Compress the memory stream (`VIR_MIGRATE_COMPRESSED`).
    public var compressed: Bool = false
    /// Allow switching to post-copy (`VIR_MIGRATE_POSTCOPY`).
    public var postcopy: Bool = false
    /// Encrypt QEMU's stream with TLS (`VIR_MIGRATE_TLS`).
    public var tls: Bool = false
    /// Several connections for the memory stream (`VIR_MIGRATE_PARALLEL`,
    /// `VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS`).
    public var parallelConnections: Int?
    /// Copy the disks as well: every block (`VIR_MIGRATE_NON_SHARED_DISK`) or the top image only
    /// (`VIR_MIGRATE_NON_SHARED_INC`).
    public enum StorageCopy: Sendable { case all, incremental }
    public var copyStorage: StorageCopy?
    /// Keep the domain from being changed at the source until the migration ends (`VIR_MIGRATE_CHANGE_PROTECTION`).
    public var changeProtection: Bool = false
    /// Where QEMU on the destination listens (`VIR_MIGRATE_PARAM_LISTEN_ADDRESS`).
    public var listenAddress: String?
    /// Pause the guest when the copy has run this long, so that it converges (virsh's `--timeout`).
    public var suspendAfter: Duration?
    /// The deadline. When it passes the migration job is aborted (`virDomainAbortJob`) and the guest
    /// keeps running at the source.
    public var timeout: Duration = .seconds(120)
    /// How often progress is read and reported.
    public var progressInterval: Duration = .milliseconds(500)

    public init() {}

    var flags: UInt32 {
        var f: UInt32 = 0
        if live && !offline { f |= VIR_MIGRATE_LIVE.rawValue }
        if offline { f |= VIR_MIGRATE_OFFLINE.rawValue }
        if persistAtDestination || offline { f |= VIR_MIGRATE_PERSIST_DEST.rawValue }
        if undefineSource { f |= VIR_MIGRATE_UNDEFINE_SOURCE.rawValue }
        if tunnelled { f |= VIR_MIGRATE_TUNNELLED.rawValue }
        if autoConverge { f |= VIR_MIGRATE_AUTO_CONVERGE.rawValue }
        if unsafe { f |= VIR_MIGRATE_UNSAFE.rawValue }
        if compressed { f |= VIR_MIGRATE_COMPRESSED.rawValue }
        if postcopy { f |= VIR_MIGRATE_POSTCOPY.rawValue }
        if tls { f |= VIR_MIGRATE_TLS.rawValue }
        if parallelConnections != nil { f |= VIR_MIGRATE_PARALLEL.rawValue }
        if changeProtection { f |= VIR_MIGRATE_CHANGE_PROTECTION.rawValue }
        switch copyStorage {
        case .all: f |= VIR_MIGRATE_NON_SHARED_DISK.rawValue
        case .incremental: f |= VIR_MIGRATE_NON_SHARED_INC.rawValue
        case nil: break
        }
        if !offline { f |= VIR_MIGRATE_ABORT_ON_ERROR.rawValue }
        return f
    }

    var parameters: [(String, TypedParameters.Value)] {
        var p: [(String, TypedParameters.Value)] = []
        if let migrateURI { p.append((VIR_MIGRATE_PARAM_URI, .string(migrateURI))) }
        if let bandwidthMiBPerSecond { p.append((VIR_MIGRATE_PARAM_BANDWIDTH, .ullong(bandwidthMiBPerSecond))) }
        if let parallelConnections {
            p.append((VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, .int(Int32(clamping: parallelConnections))))
        }
        if let listenAddress { p.append((VIR_MIGRATE_PARAM_LISTEN_ADDRESS, .string(listenAddress))) }
        return p
    }
}

/// What a finished migration reports.
public struct MigrationResult: Sendable {
    public let destination: String
    /// Wall time of the whole call.
    public let duration: Duration
    /// The final job statistics, when libvirt still had them (source, or destination).
    public let statistics: JobStats?
    /// Downtime as QEMU measured it, in ms (from ``statistics``).
    public var downtimeMilliseconds: UInt64? { statistics?.downtimeMilliseconds }
}

extension Domain {
    /// Migrates the domain, reporting progress while it runs and aborting the job if it outlives its
    /// deadline.
    /// - Parameters:
    ///   - destination: peer-to-peer to a URI, or direct to an open connection.
    ///   - options: live/offline, persistence, URIs, bandwidth, downtime, deadline.
    ///   - progress: called every ``MigrationOptions/progressInterval`` with the running job's statistics.
    /// - Throws: ``LibvirtError``; `.timedOut` after an abort at the deadline (the guest still runs at the
    ///   source), or libvirt's own error (`.operationAborted` if someone else aborted it).
    @discardableResult
    public func migrate(
        to destination: MigrationDestination, options: MigrationOptions = MigrationOptions(),
        progress: @escaping @Sendable (JobStats) -> Void = { _ in }
    ) async throws(LibvirtError) -> MigrationResult {
        let started = ContinuousClock.now
        let name = self.name
        if let maxDowntime = options.maxDowntime, !options.offline {
            let ms = UInt64(max(1, maxDowntime.milliseconds))
            try await status("virDomainMigrateSetMaxDowntime") { virDomainMigrateSetMaxDowntime($0, ms, 0) }
        }
        let flags = options.flags
        let parameters = options.parameters
        // Set by the job when it ends, polled by the progress loop below.
        let finished = AtomicFlag()
        // The migration call itself gets a generous deadline: the abort below is what enforces
        // `options.timeout`; this one only guards against a daemon that stops answering altogether.
        let callDeadline = options.timeout + .seconds(60)
        let job = Task { () async -> Result<SendableOpaque?, LibvirtError> in
            defer { finished.set() }
            do throws(LibvirtError) {
                switch destination {
                case .peerToPeer(let uri, _):
                    _ = try await self.call("virDomainMigrateToURI3", timeout: callDeadline) {
                        (d) throws(LibvirtError) -> SendableOpaque? in
                        let rc = TypedParameters.withList(parameters) { p, n in
                            virDomainMigrateToURI3(d, uri, p, UInt32(n), flags | VIR_MIGRATE_PEER2PEER.rawValue)
                        }
                        if rc < 0 { throw LibvirtError.last(operation: "virDomainMigrateToURI3", target: name) }
                        return nil
                    }
                    return .success(nil)
                case .direct(let target):
                    let targetHandle = SendableOpaque(target.handle)
                    return .success(
                        try await self.call(
                            "virDomainMigrate3", timeout: callDeadline,
                            discard: { late in late.map(SendableOpaque.releaseDomain) }
                        ) {
                            (d) throws(LibvirtError) -> SendableOpaque? in
                            let result = TypedParameters.withList(parameters) { p, n in
                                virDomainMigrate3(d, targetHandle.pointer, p, UInt32(n), flags)
                            }
                            guard let result else {
                                throw LibvirtError.last(operation: "virDomainMigrate3", target: name)
                            }
                            return SendableOpaque(result)
                        })
                }
            } catch { return .failure(error) }
        }

        var aborted = false
        var suspended = false
        while !finished.isSet {
            // The interval, cut short when the job ends: a finished migration must not wait for the next tick
            // (the guest runs on the destination, and the cluster waits for this action to return).
            let tick = ContinuousClock.now + options.progressInterval
            while !finished.isSet, ContinuousClock.now < tick { try? await Task.sleep(for: .milliseconds(5)) }
            if finished.isSet { break }
            if let stats = try? await jobStats(), stats.isActive { progress(stats) }
            if !suspended, let after = options.suspendAfter, ContinuousClock.now - started >= after {
                suspended = true
                try? await suspend()
            }
            if !aborted, ContinuousClock.now - started >= options.timeout {
                aborted = true
                try? await abortJob()
            }
        }
        let migrated: SendableOpaque?
        switch await job.value {
        case .success(let value): migrated = value
        case .failure(let error):
            if aborted {
                throw LibvirtError(
                    code: .timedOut,
                    message:
                        "migration to \(destination.description) did not finish within "
                        + "\(Duration.formatted(options.timeout.seconds)) and was aborted; the guest keeps running here (libvirt said: \(error.message))",
                    operation: "virDomainMigrate", target: name)
            }
            throw error
        }
        // (A job that finished just as it was aborted succeeded: it is reported as a success.)
        // The domain object libvirt returned on the destination (direct mode) is owned here from now on.
        let arrived: Domain? =
            switch destination {
            case .direct(let target): migrated.map { Domain(handle: $0.pointer, connection: target) }
            case .peerToPeer: nil
            }
        // Final statistics: the source keeps them unless it undefined the domain; the destination has them too.
        var statistics = try? await jobStats(completed: true)
        if statistics?.kind != .completed {
            statistics = nil
            var remote = arrived
            if remote == nil, case .peerToPeer(_, let connection?) = destination {
                remote = try? await connection.lookupDomain(uuid: uuid)
            }
            if let remote, let s = try? await remote.jobStats(completed: true), s.kind == .completed { statistics = s }
        }
        return MigrationResult(
            destination: destination.description, duration: ContinuousClock.now - started,
            statistics: statistics)
    }
}
