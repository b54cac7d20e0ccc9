import Libvirt

/// One way of stopping a guest. The stop chain tries them in order until one works.
public enum StopMethod: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Managed save: memory goes to disk, the next start resumes it — users' sessions survive
    /// (the thesis's `vmware-cmd suspend`). Persistent guests only.
    case save
    /// Ask the guest to power off (ACPI or agent) and wait for it.
    case shutdown
    /// Pull the plug.
    case destroy

    public var description: String { rawValue }
}

/// How a guest is stopped: the methods in order, and the time they share.
public struct StopPolicy: Sendable {
    public var methods: [StopMethod]
    /// The whole budget: the chain never runs past it (a cluster manager fences a node whose stop
    /// outlives its timeout).
    public var timeout: Duration
    /// How the shutdown step asks the guest (empty: libvirt chooses).
    public var shutdownModes: ShutdownModes = []
    /// Save to this file instead of libvirt's managed-save image (VirtualDomain's `snapshot`).
    public var saveFile: String?
    /// The node's save slots: a save waits for one (within its share of the budget), so that a takeover
    /// saving every guest at once keeps the disk streaming instead of thrashing. nil: no limit.
    public var saveSlots: Admission.Request?

    /// save → shutdown → destroy, as the thesis suspended guests and xendomains fell back.
    public static let `default` = StopPolicy(methods: [.save, .shutdown, .destroy], timeout: .seconds(90))

    public init(methods: [StopMethod], timeout: Duration) {
        self.methods = methods
        self.timeout = timeout
    }

    /// Time kept for `destroy` when it ends the chain, so that an earlier step cannot eat it all.
    var destroyReserve: Duration {
        guard methods.last == .destroy, methods.count > 1 else { return .zero }
        return min(.seconds(10), timeout / 4)
    }
}

/// What ``Hypervisor/stop(_:policy:)`` did.
public struct StopOutcome: Sendable {
    /// The method that stopped it, or nil when it was not running.
    public let method: StopMethod?
    /// Methods that were tried first and failed, with why.
    public let failures: [(method: StopMethod, reason: String)]
    public let duration: Duration
    /// True when the chain had to fall back past its first method.
    public var escalated: Bool { !failures.isEmpty }
}

extension Hypervisor {
    /// Stops a guest by the chain in `policy`, within its budget. Stopping a stopped guest succeeds.
    /// - Throws: ``VMError`` when every method failed; the message lists each failure.
    public func stop(_ domain: Domain, policy: StopPolicy = .default) async throws -> StopOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + policy.timeout
        var failures: [(method: StopMethod, reason: String)] = []

        if try await isStopped(domain) {
            return StopOutcome(method: nil, failures: [], duration: clock.now - started)
        }
        for (index, method) in policy.methods.enumerated() {
            let isLast = index == policy.methods.count - 1
            let budget = deadline - clock.now - (isLast ? .zero : policy.destroyReserve)
            guard budget > .zero else {
                failures.append((method, "no time left in the \(policy.timeout.formattedSeconds) budget"))
                continue
            }
            if let reason = await attempt(method, on: domain, budget: budget, policy: policy) {
                failures.append((method, reason))
                continue
            }
            logger.info(
                "guest stopped",
                metadata: [
                    "domain.name": "\(domain.name)", "method": "\(method)", "escalated": "\(!failures.isEmpty)",
                ])
            return StopOutcome(method: method, failures: failures, duration: clock.now - started)
        }
        let list = failures.map { "\($0.method): \($0.reason)" }.joined(separator: "; ")
        throw VMError(.failed, "could not stop guest \(domain.name) within \(policy.timeout.formattedSeconds): \(list)")
    }

    private func isStopped(_ domain: Domain) async throws -> Bool {
        try await libvirt("reading the state of \(domain.name)") { try await !domain.state().isActive }
    }

    /// Tries one method; returns nil when the guest is stopped afterwards, or why not.
    private func attempt(_ method: StopMethod, on domain: Domain, budget: Duration, policy: StopPolicy) async -> String?
    {
        let clock = ContinuousClock()
        let until = clock.now + budget
        do {
            switch method {
            case .save:
                let slot = try await policy.saveSlots?.acquire(.save, deadline: until, logger: logger)
                defer { slot?.release() }
                if let file = policy.saveFile {
                    try await domain.save(to: file, flags: .running, timeout: budget)
                } else {
                    guard try await domain.isPersistent() else {
                        return "the guest is transient; only defined guests can be saved"
                    }
                    // `.running`: whatever its state now, the guest runs again when restored.
                    try await domain.managedSave(flags: .running, timeout: budget)
                }
            case .shutdown:
                try await domain.shutdown(modes: policy.shutdownModes, timeout: budget)
                var stopped = false
                while !stopped && clock.now < until {
                    try await Task.sleep(for: .milliseconds(200))
                    stopped = try await isStopped(domain)
                }
                if !stopped { return "the guest did not power off within \(budget.formattedSeconds)" }
            case .destroy:
                do {
                    try await domain.destroy(timeout: budget)
                } catch {
                    // "domain is not running" means it stopped on its own meanwhile: fine.
                    if error.code != .operationInvalid { throw error }
                }
            }
            return try await isStopped(domain) ? nil : "libvirt reported success but the guest is still active"
        } catch let error as LibvirtError {
            return error.message
        } catch let error as VMError {
            return error.message
        } catch {
            return "\(error)"
        }
    }
}
