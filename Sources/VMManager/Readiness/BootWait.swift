import Libvirt

/// How vmmanager decides that a guest has really booted (the thesis's script waited for this before
/// letting heartbeat start the next VM, so hosts were not overloaded by parallel boots).
public enum ReadinessProbe: Sendable, Hashable, CustomStringConvertible {
    /// Do not wait: ready as soon as libvirt says running.
    case none
    /// The QEMU guest agent answers `guest-ping`.
    case guestAgent

    public var description: String {
        switch self {
        case .none: "none"
        case .guestAgent: "guest-agent"
        }
    }
}

/// Waits until a guest is ready by its ``ReadinessProbe``, within a deadline.
public enum BootWait {
    /// Returns how long the wait took.
    /// - Throws: ``VMError`` `.timedOut` when the deadline passes, `.failed` when the guest stops while
    ///   we wait (it crashed or was shut down: waiting longer would not help).
    @discardableResult
    public static func waitUntilReady(
        _ domain: Domain, probe: ReadinessProbe, timeout: Duration, pollInterval: Duration = .milliseconds(250)
    ) async throws -> Duration {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + timeout
        switch probe {
        case .none:
            return .zero
        case .guestAgent:
            var lastError: LibvirtError?
            while true {
                let state = try await libvirt("reading the state of \(domain.name)") { try await domain.state() }
                guard state.isActive else {
                    throw VMError(.failed, "guest \(domain.name) stopped while waiting for it to boot: \(state)")
                }
                if state.kind == .running {
                    let left = deadline - clock.now
                    do {
                        try await domain.pingAgent(timeout: min(.seconds(2), max(.seconds(1), left)))
                        return clock.now - started
                    } catch {
                        lastError = error
                    }
                }
                if clock.now >= deadline {
                    let why = lastError.map { " (last answer: \($0.message))" } ?? ""
                    throw VMError(
                        .timedOut,
                        "guest \(domain.name) did not answer on its guest agent within \(timeout.formattedSeconds)\(why). "
                            + "Is qemu-guest-agent running in the guest, and does its XML have the "
                            + "org.qemu.guest_agent.0 channel?")
                }
                try await Task.sleep(for: min(pollInterval, max(.milliseconds(10), deadline - clock.now)))
            }
        }
    }
}

extension Duration {
    /// "1.25 s" — for messages and tables.
    public var formattedSeconds: String {
        let c = components
        let s = Double(c.seconds) + Double(c.attoseconds) / 1e18
        if s >= 100 { return "\(Int(s.rounded())) s" }
        return "\((s * 100).rounded() / 100) s"
    }

    /// The duration in seconds.
    public var inSeconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
