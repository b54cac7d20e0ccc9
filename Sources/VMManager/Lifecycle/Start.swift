import Libvirt

/// What ``Hypervisor/start(_:readiness:timeout:)`` did.
public struct StartOutcome: Sendable {
    public enum How: String, Sendable {
        /// It was already running; nothing was done (start is idempotent).
        case alreadyRunning = "already running"
        /// It was paused (by an admin or an I/O error) and was resumed.
        case resumed = "resumed from pause"
        /// It came back from its saved image: its memory, processes and sessions survived.
        case restored = "restored from saved state"
        /// It was cold-booted.
        case booted = "booted"
    }
    public let how: How
    /// How long the readiness wait took (nil when none was asked for or needed).
    public let readyAfter: Duration?
    /// Total wall time of the action.
    public let duration: Duration
    /// When a saved image could not be restored and the guest was cold-booted instead: why, and where the
    /// image was kept.
    public var restoreFailure: String?
    /// After a restore or resume: how far behind the guest's clock was before it was set (seconds), when
    /// its agent could set it.
    public var clockCorrection: Double?

    public init(
        how: How, readyAfter: Duration?, duration: Duration, restoreFailure: String? = nil,
        clockCorrection: Double? = nil
    ) {
        self.how = how
        self.readyAfter = readyAfter
        self.duration = duration
        self.restoreFailure = restoreFailure
        self.clockCorrection = clockCorrection
    }
}

extension Hypervisor {
    /// Brings a defined guest to "running and ready".
    ///
    /// Idempotent: a running guest is left alone, a paused one resumed, a saved one restored, a stopped
    /// one booted. Then waits until the guest is ready by `readiness`, inside `timeout` in total.
    public func start(_ domain: Domain, readiness: ReadinessProbe, timeout: Duration) async throws -> StartOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let name = domain.name
        let state = try await libvirt("reading the state of \(name)") { try await domain.state() }
        let how: StartOutcome.How
        switch state.kind {
        case .running, .blocked:
            how = .alreadyRunning
        case .paused:
            try await libvirt("resuming \(name)") { try await domain.resume() }
            how = .resumed
        case .shutOff, .crashed, .noState:
            if state.kind == .crashed {
                // A crashed guest keeps its QEMU process; it must be destroyed before it can start again.
                try await libvirt("clearing crashed guest \(name)") { try await domain.destroy() }
            }
            let hasImage = try await libvirt("checking \(name) for a managed-save image") {
                (try? await domain.isPersistent()) == true ? try await domain.hasManagedSaveImage() : false
            }
            try await libvirt(hasImage ? "restoring \(name) from its managed-save image" : "starting \(name)") {
                try await domain.start(timeout: timeout)
            }
            how = hasImage ? .restored : .booted
        case .pmSuspended:
            throw VMError(
                .failed,
                "guest \(name) is suspended by its own power management (pmsuspended); "
                    + "wake it with `virsh dompmwakeup \(name)`")
        case .shuttingDown, .other:
            throw VMError(.failed, "guest \(name) is \(state); try again when it has stopped")
        }
        logger.info("guest started", metadata: ["domain.name": "\(name)", "how": "\(how.rawValue)"])
        var readyAfter: Duration?
        if how != .alreadyRunning || readiness != .none {
            let left = timeout - (clock.now - started)
            readyAfter = try await BootWait.waitUntilReady(
                domain, probe: readiness, timeout: max(.zero, left),
                context: BootContext(coldBoot: how == .booted))
        }
        return StartOutcome(how: how, readyAfter: readiness == .none ? nil : readyAfter, duration: clock.now - started)
    }
}
