import FoundationEssentials
import Libvirt
import Logging
import VMManager
#if canImport(Glibc)
import Glibc
#endif

/// Delivery of what ``Notifier`` recorded: the flush of the spool and the direct send of `vmctl notify test`.
extension Notifier {
    // MARK: Delivery

    /// What a flush did.
    public struct FlushReport: Sendable {
        /// Events every target accepted, removed from the spool by this flush.
        public var delivered = 0
        /// Events still spooled afterwards (some target has not accepted them yet).
        public var remaining = 0
        /// Events dropped because their guest no longer has any target configured.
        public var dropped = 0
        /// Unreadable spool files moved aside as `<name>.corrupt`.
        public var corrupt = 0
        /// Every delivery attempt made, in order.
        public var results: [DeliveryResult] = []
        /// Target → the last error of this flush, for targets that failed.
        public var failures: [String: String] = [:]
        /// Configuration problems that kept events from being delivered.
        public var configurationErrors: [String] = []
        /// Another flush held the spool and this one did not wait (it delivers the new events too).
        public var busy = false
        /// The spool itself could not be used.
        public var spoolError: String?

        public var allDelivered: Bool { remaining == 0 && corrupt == 0 && spoolError == nil && !busy }

        public init() {}
    }

    /// Tries every spooled event against every target it has not reached yet, oldest first, on a thread of its
    /// own. A target that fails is not tried again in the same flush (a dead server costs one timeout, not one
    /// per event); a webhook gets its retries with backoff first.
    /// - Parameter waitForOtherFlush: wait while another process flushes (true), or leave at once (false): the
    ///   other flush re-reads the spool before it ends, so it delivers what this one would have.
    public func deliverPending(waitForOtherFlush: Bool = true) async -> FlushReport {
        // The flush runs on a thread, not in a task: it polls this to notice the task's cancellation.
        let cancelled = AtomicFlag()
        return await withTaskCancellationHandler {
            do {
                return try await DedicatedThread.run(name: "notify-flush") {
                    self.flush(wait: waitForOtherFlush, cancelled: cancelled)
                }
            } catch {
                var report = FlushReport()
                report.spoolError = "cannot flush the spool: \(error)"
                report.remaining = spool.names().count
                return report
            }
        } onCancel: {
            cancelled.set()
        }
    }

    /// The flush itself (blocking).
    func flush(wait: Bool, cancelled: AtomicFlag) -> FlushReport {
        var report = FlushReport()
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: spoolDirectory, isDirectory: &isDirectory), isDirectory else {
            return report  // nothing was ever spooled
        }
        BrokenPipe.ignore()
        let fd = open("\(spoolDirectory)/.flush.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            report.spoolError = "cannot open \(spoolDirectory)/.flush.lock: \(String(cString: strerror(errno)))"
            report.remaining = spool.names().count
            return report
        }
        defer { close(fd) }
        var locked = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0
        if !locked {
            report.busy = true
            report.remaining = spool.names().count
            return report
        }
        spool.removeStaleTemporaries()
        var pass = FlushPass(notifier: self)
        while locked {
            while !cancelled.isSet {
                let fresh = spool.names().filter { !pass.attempted.contains($0) }
                if fresh.isEmpty { break }
                for name in fresh where !cancelled.isSet { pass.process(name, into: &report) }
            }
            flock(fd, LOCK_UN)
            locked = false
            // An event recorded while we held the lock may have had its own flush give up on our lock; look
            // once more after releasing it, and take the lock back if nobody else did.
            if cancelled.isSet { break }
            if spool.names().contains(where: { !pass.attempted.contains($0) }) {
                locked = flock(fd, LOCK_EX | LOCK_NB) == 0
            }
        }
        report.failures = pass.down
        report.remaining = spool.names().count
        return report
    }

    /// Sends `event` to every target now, without the spool (`vmctl notify test`).
    /// - Throws: ``ConfigError`` when the settings do not resolve.
    public func send(_ event: TransitionEvent) async throws(ConfigError) -> [DeliveryResult] {
        let settings = try settings(forGuest: event.guest)
        do {
            return try await DedicatedThread.run(name: "notify-send") {
                BrokenPipe.ignore()
                let session = DeliverySession()
                return settings.targets.map { session.deliver(event, to: $0) }
            }
        } catch {
            return settings.targets.map { DeliveryResult(target: $0, accepted: false, detail: "not sent: \(error)") }
        }
    }
}

/// The state of one flush: what was tried, which targets are down, the settings of each guest.
private struct FlushPass {
    let notifier: Notifier
    let session = DeliverySession()
    var attempted: Set<String> = []
    /// Target description → the error that made it count as down for the rest of this flush.
    var down: [String: String] = [:]
    private var downKeys: Set<String> = []
    private var settings: [String: Result<NotifySettings, ConfigError>] = [:]

    init(notifier: Notifier) { self.notifier = notifier }

    mutating func process(_ name: String, into report: inout Notifier.FlushReport) {
        attempted.insert(name)
        let spool = notifier.spool
        var entry: SpooledEvent
        switch spool.read(name) {
        case .success(let e): entry = e
        case .failure(let error):
            guard FileManager.default.fileExists(atPath: "\(spool.directory)/\(name)") else { return }
            notifier.logger.error("unreadable spool file moved aside", metadata: ["error": "\(error)"])
            spool.quarantine(name)
            report.corrupt += 1
            return
        }
        let key = entry.event.guest ?? ""
        if settings[key] == nil {
            do { settings[key] = .success(try notifier.settings(forGuest: entry.event.guest)) } catch {
                settings[key] = .failure(error)
                report.configurationErrors.append(error.description)
            }
        }
        guard case .success(let resolved) = settings[key]! else { return }
        let targets = resolved.targets
        if targets.isEmpty && notifier.configuration == nil {
            // No file at all (a wrong --config, a node not set up yet): nothing says the events are unwanted.
            let why = "no configuration file: spooled events wait until one says where they go"
            if !report.configurationErrors.contains(why) { report.configurationErrors.append(why) }
            return
        }
        if targets.isEmpty {
            notifier.logger.info(
                "notifications are off for this guest; spooled event dropped",
                metadata: [
                    "event.id": "\(entry.event.id.uuidString.lowercased())",
                    "domain.name": "\(entry.event.guest ?? "-")",
                ])
            try? spool.remove(name)
            report.dropped += 1
            return
        }
        var changed = false
        for target in targets where entry.delivered[target.key] == nil && !downKeys.contains(target.key) {
            let result = session.deliver(entry.event, to: target)
            report.results.append(result)
            changed = true
            if result.accepted {
                entry.delivered[target.key] = Date()
                entry.attempts[target.key] = nil
            } else {
                var attempt = entry.attempts[target.key] ?? SpooledEvent.Attempt(count: 0, lastError: "", last: Date())
                attempt.count += 1
                attempt.lastError = result.detail
                attempt.last = Date()
                entry.attempts[target.key] = attempt
                downKeys.insert(target.key)
                down[target.description] = result.detail
                notifier.logger.warning(
                    "notification not delivered",
                    metadata: [
                        "event.id": "\(entry.event.id.uuidString.lowercased())", "target": "\(target)",
                        "error": "\(result.detail)",
                    ])
            }
        }
        if targets.allSatisfy({ entry.delivered[$0.key] != nil }) {
            do {
                try spool.remove(name)
                report.delivered += 1
            } catch {
                report.spoolError = error.message
            }
        } else if changed {
            do { try spool.write(entry, name: name) } catch { report.spoolError = error.message }
        }
    }
}
