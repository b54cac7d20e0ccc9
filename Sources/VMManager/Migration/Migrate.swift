import Libvirt

/// What ``Hypervisor/migrate(_:to:options:progress:)`` reports.
public struct MigrationReport: Sendable {
    public let destinationURI: String
    public let duration: Duration
    /// The pause the guest saw at switch-over, as QEMU measured it.
    public let downtimeMilliseconds: UInt64?
    /// Bytes moved.
    public let bytesTransferred: UInt64?
    /// The guest's state on the destination afterwards.
    public let destinationState: DomainState
}

extension Hypervisor {
    /// Moves a guest to another host and checks that it arrived there running, with the same UUID.
    ///
    /// By default this process connects to both daemons and drives the migration (libvirt's "direct"
    /// mode, what `virsh migrate` and VirtualDomain do without `--p2p`), so `destinationURI` is the
    /// destination as seen from here. With `peerToPeer`, this host's libvirtd connects to
    /// `destinationURI` itself (it must then make sense from the daemon's side too); this process still
    /// connects to it to verify the result.
    public func migrate(
        _ domain: Domain, to destinationURI: String, options: MigrationOptions, peerToPeer: Bool = false,
        progress: @escaping @Sendable (JobStats) -> Void = { _ in }
    ) async throws -> MigrationReport {
        let name = domain.name
        let destination = try await libvirt("connecting to the destination \(destinationURI)") {
            try await Connection.open(destinationURI, options: connection.options)
        }
        let state = try await libvirt("reading the state of \(name)") { try await domain.state() }
        if options.offline {
            guard !state.isActive else {
                throw VMError(
                    .refused,
                    "guest \(name) is running; an offline migration moves only stopped guests "
                        + "(use --live)")
            }
        } else if !state.isActive {
            throw VMError(
                .refused,
                "guest \(name) is not running (\(state)); a live migration needs a running guest "
                    + "(use --offline to move its definition)")
        }
        if let existing = try? await destination.lookupDomain(uuid: domain.uuid),
            (try? await existing.isActive()) == true
        {
            throw VMError(
                .refused,
                "guest \(name) (\(domain.uuid)) is already running on \(destinationURI); "
                    + "refusing to run it twice")
        }
        let result = try await libvirt("migrating \(name) to \(destinationURI)") {
            try await domain.migrate(
                to: peerToPeer ? .peerToPeer(uri: destinationURI, statistics: destination) : .direct(destination),
                options: options, progress: progress)
        }
        let arrived = try await libvirt("checking \(name) on \(destinationURI)") {
            try await destination.lookupDomain(uuid: domain.uuid)
        }
        let arrivedState = try await libvirt("reading the state of \(name) on \(destinationURI)") {
            try await arrived.state()
        }
        logger.info(
            "guest migrated",
            metadata: [
                "domain.name": "\(name)", "destination": "\(destinationURI)",
                "downtime_ms": "\(result.downtimeMilliseconds.map(String.init) ?? "unknown")",
            ])
        try? await destination.close()
        return MigrationReport(
            destinationURI: destinationURI, duration: result.duration,
            downtimeMilliseconds: result.downtimeMilliseconds,
            bytesTransferred: result.statistics?.dataProcessed, destinationState: arrivedState)
    }
}
