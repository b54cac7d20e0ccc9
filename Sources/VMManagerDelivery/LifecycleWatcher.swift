import FoundationEssentials
import VMManager
import Libvirt
import Logging
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// What the watcher makes of one libvirt life-cycle event.
public enum LifecycleVerdict: Sendable, Equatable {
    /// Never a cluster action's doing (a crash, an I/O error): always notified.
    case report(TransitionKind, String)
    /// A cluster action may have caused it (a start, a stop, a resume): notified only when none did.
    case reportIfOutsideAction(TransitionKind, String)
    /// A step inside something else (the halves of a migration, the shutdown request before the stop).
    case ignore

    /// Maps libvirt's event type and detail (`VIR_DOMAIN_EVENT_*`) to a transition.
    ///
    /// A container (libvirt LXC) that stops by itself is a failure: libvirt reports a killed init exactly as
    /// an init that exited ("stopped (shutdown)"), so a container stopped outside any cluster action is taken
    /// for what the cluster sees, a resource that left service, and its failure_response applies.
    public static func classify(_ event: DomainEvent.Lifecycle, container: Bool = false) -> LifecycleVerdict {
        let detail = event.detailName
        if container, event.type == .stopped, detail == "shutdown" {
            return .reportIfOutsideAction(
                .crashed, "the container's init ended (it exited or was killed; libvirt does not tell which)")
        }
        switch event.type {
        case .crashed:
            return .report(.crashed, "the guest crashed (\(detail))")
        case .stopped:
            switch detail {
            case "crashed": return .report(.crashed, "the guest crashed and was stopped")
            case "failed": return .report(.crashed, "the guest's QEMU process failed or was killed")
            case "shutdown": return .reportIfOutsideAction(.down, "the guest shut down")
            case "destroyed": return .reportIfOutsideAction(.down, "the guest was destroyed (powered off)")
            case "saved": return .reportIfOutsideAction(.down, "the guest was saved to disk")
            case "from snapshot": return .reportIfOutsideAction(.down, "the guest was stopped by a snapshot revert")
            default: return .ignore  // migrated: the migration reports it
            }
        case .shutdown:
            // "finished"/"host" are followed by stopped (shutdown), which is judged on its own.
            return detail == "guest" ? .report(.shutDownByGuest, "the guest shut itself down from inside") : .ignore
        case .started:
            switch detail {
            case "booted": return .reportIfOutsideAction(.up, "the guest was started")
            case "restored":
                return .reportIfOutsideAction(.resumedFromSaved, "the guest was restored from a saved image")
            case "from snapshot": return .reportIfOutsideAction(.up, "the guest was started from a snapshot")
            case "wakeup": return .reportIfOutsideAction(.resumed, "the guest woke up from a power-management suspend")
            default: return .ignore
            }
        case .suspended:
            switch detail {
            case "paused": return .reportIfOutsideAction(.paused, "the guest was paused")
            case "ioerror": return .report(.pausedIOError, "QEMU paused the guest: a disk returned an I/O error")
            case "watchdog": return .report(.pausedWatchdog, "QEMU paused the guest: its watchdog fired")
            case "api error": return .report("paused-error", "QEMU paused the guest after an error")
            default: return .ignore  // migrated, restored, from snapshot, post-copy: steps of other actions
            }
        case .resumed:
            switch detail {
            case "unpaused": return .reportIfOutsideAction(.resumed, "the guest runs again")
            case "from snapshot": return .reportIfOutsideAction(.resumed, "the guest runs again (snapshot)")
            default: return .ignore
            }
        case .pmSuspended:
            return .reportIfOutsideAction("pm-suspended", "the guest suspended itself (\(detail))")
        case .defined, .undefined, .other:
            return .ignore
        }
    }
}

/// `vmctl watch`: notifies the transitions no cluster action reports — a guest that crashed, shut itself
/// down, was paused by an I/O error, or was started, stopped, paused or resumed by hand outside the cluster.
///
/// Whether a cluster action caused an event is decided from two facts the agent leaves behind: the guest's
/// lock (`<lock_dir>/<guest>.lock`, held during every action) and the time the agent last recorded a
/// transition for the guest (the notifier's `.actions/<guest>` mark). An ambiguous event is judged after a
/// short settle time, so that an action that ends just after its event is still seen. Its ``flusher`` retries
/// the spool periodically, so what could not be delivered earlier leaves as soon as it can.
///
/// Both are `Service`s of swift-service-lifecycle: run ``services`` in a `ServiceGroup`, whose graceful shutdown
/// (SIGTERM, SIGINT) stops the watcher first, then the flusher.
public final class LifecycleWatcher: Service, Sendable {
    public struct Options: Sendable {
        /// libvirt URI of the local hypervisor.
        public var uri: String
        /// More local hypervisors watched alongside (`lxc:///system` beside `qemu:///system`), one event
        /// stream each, judged and spooled alike.
        public var alsoURIs: [String]
        /// vmmanager.conf, re-read at every event (a changed recipient takes effect without a restart).
        public var configPath: String
        /// Only these guests; empty watches all.
        public var guests: Set<String>
        /// How long an ambiguous event waits before it is judged.
        public var settle: Duration
        /// How often the spool is retried when nothing happens.
        public var flushInterval: Duration
        /// How long to wait before reconnecting to a libvirtd that went away.
        public var reconnectDelay: Duration
        /// Overrides `spool_dir` (tests).
        public var spoolDirectory: String?

        public init(
            uri: String = "qemu:///system", configPath: String = NotifySettings.defaultConfigPath,
            guests: Set<String> = [], settle: Duration = .seconds(3), flushInterval: Duration = .seconds(60),
            reconnectDelay: Duration = .seconds(5), spoolDirectory: String? = nil, alsoURIs: [String] = []
        ) {
            self.uri = uri
            self.alsoURIs = alsoURIs
            self.configPath = configPath
            self.guests = guests
            self.settle = settle
            self.flushInterval = flushInterval
            self.reconnectDelay = reconnectDelay
            self.spoolDirectory = spoolDirectory
        }
    }

    public let options: Options
    public let logger: Logger
    private let memory = WatchMemory()
    /// Delivers the spool every `flushInterval`, and as soon as the watcher records a transition.
    public let flusher: SpoolFlusher

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
        self.flusher = SpoolFlusher(options: options, logger: logger)
    }

    /// The flusher and the watcher, in the order a `ServiceGroup` starts them: its graceful shutdown goes the
    /// other way, so the watcher spools what it received before the flusher ends.
    public var services: [any Service] { [flusher, self] }

    /// Watches until a graceful shutdown or cancellation. The libvirt event registration ends with the watch
    /// (the stream's end deregisters the callbacks); events already received are judged and spooled before it
    /// returns.
    public func run() async {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for uri in [self.options.uri] + self.options.alsoURIs {
                    group.addTask {
                        await self.watch(uri)
                        self.logger.notice("stopped watching libvirt events", metadata: ["libvirt.uri": "\(uri)"])
                    }
                }
            }
        }
    }

    private func watch(_ uri: String) async {
        while !Task.isCancelled {
            do {
                let host = try await Hypervisor.connect(uri, timeout: .seconds(10), logger: logger)
                let events = try await host.connection.events()
                logger.notice("watching libvirt events", metadata: ["libvirt.uri": "\(uri)"])
                await consume(events, on: host, uri: uri)
                if !Task.isCancelled { logger.warning("lost the connection to libvirt; reconnecting") }
            } catch {
                logger.warning("cannot watch libvirt events; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: options.reconnectDelay)
        }
    }

    /// Handles events until the stream ends, the connection dies, or the task is cancelled.
    private func consume(_ events: AsyncStream<DomainEvent>, on host: Hypervisor, uri: String) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Keepalive closes a dead connection; notice it and leave, so the outer loop reconnects.
                while !Task.isCancelled, await host.connection.isAlive() {
                    try? await Task.sleep(for: .seconds(5))
                }
            }
            group.addTask {
                await withDiscardingTaskGroup { handlers in
                    for await event in events {
                        handlers.addTask { await self.handle(event, on: host, uri: uri) }
                    }
                }
            }
            // Whichever ends first (dead connection, cancellation) ends both.
            await group.next()
            group.cancelAll()
        }
    }

    private func handle(_ event: DomainEvent, on host: Hypervisor, uri: String) async {
        guard case .lifecycle(let lifecycle) = event.kind else { return }
        if !options.guests.isEmpty && !options.guests.contains(event.domainName) { return }
        if lifecycle.type == .started { await memory.started(event.domainUUID, at: event.received) }
        let verdict = LifecycleVerdict.classify(lifecycle, container: Hypervisor.servesContainers(uri))
        logger.debug(
            "libvirt event",
            metadata: [
                "domain.name": "\(event.domainName)", "event": "\(lifecycle)",
                "verdict": "\(verdict)",
            ])
        let kind: TransitionKind
        let reason: String
        var ambiguous = false
        switch verdict {
        case .ignore: return
        case .report(let k, let r): (kind, reason) = (k, r)
        case .reportIfOutsideAction(let k, let r): (kind, reason, ambiguous) = (k, r, true)
        }
        let state = try? await host.connection.domainIfExists(uuid: event.domainUUID)?.state()
        // QEMU starts every guest paused and resumes it: the "resumed" of a boot or a restore is not news. A
        // guest really resumed from a pause runs for the reason "unpaused".
        if kind == .resumed, let state, state.kind == .running,
            !["unpaused", "event wakeup"].contains(state.reasonName)
        {
            return
        }
        let previous = await memory.exchangeState(event.domainUUID, state?.description)
        if ambiguous {
            // A cancelled sleep (SIGTERM) still judges and spools the event.
            try? await Task.sleep(for: options.settle)
            let notifier = Notifier.load(
                configPath: options.configPath, spoolDirectory: options.spoolDirectory,
                logger: logger)
            let locks = lockDirectory(notifier.configuration, event.domainName)
            if ClusterActionCheck.isClusterAction(
                guest: event.domainName, at: event.received, lockDirectory: locks,
                notifier: notifier)
            {
                logger.debug(
                    "event caused by a cluster action; the agent reports it",
                    metadata: ["domain.name": "\(event.domainName)"])
                return
            }
        }
        guard await memory.shouldReport(kind, for: event.domainUUID, at: event.received) else { return }
        let notifier = Notifier.load(
            configPath: options.configPath, spoolDirectory: options.spoolDirectory,
            logger: logger)
        let transition = TransitionEvent(
            transition: kind, guest: event.domainName, guestUUID: event.domainUUID,
            reason: reason + (ambiguous ? ", outside any cluster action" : ""),
            previousState: previous, newState: state?.description,
            configPath: configPath(notifier.configuration, event.domainName), timestamp: event.received,
            source: .watcher, details: ["libvirt_event": lifecycle.description])
        if case .spooled = notifier.record(transition) {
            logger.notice("transition", metadata: ["domain.name": "\(event.domainName)", "transition": "\(kind)"])
            flusher.request()
        }
        if kind == .crashed {
            // The guest's failure_response: tell Pacemaker at once, or restart it here (heartbeat v1).
            let response = FailureResponse(
                configPath: options.configPath, hypervisor: uri,
                reporter: NotifyingReporter(notifier: notifier, source: .watcher, logger: logger),
                logger: logger)
            let outcome = await response.respond(to: event.domainName, uuid: event.domainUUID, reason: reason)
            logger.info("failure response", metadata: ["domain.name": "\(event.domainName)", "outcome": "\(outcome)"])
            flusher.request()
        }
    }

    /// `lock_dir` as the agent resolves it: the guest's section, `[global]`, then the default.
    private func lockDirectory(_ file: ConfigFile?, _ guest: String) -> String {
        let entries = (file?.entries(ofGuest: guest) ?? []) + (file?.entries(of: "global") ?? [])
        return entries.first { $0.key == "lock_dir" }?.value ?? "/run/vmmanager"
    }

    /// The guest's `config` from vmmanager.conf, made absolute against `vm_dir`.
    private func configPath(_ file: ConfigFile?, _ guest: String) -> String? {
        guard let file, let config = file.entries(ofGuest: guest).first(where: { $0.key == "config" })?.value else {
            return nil
        }
        if config.hasPrefix("/") { return config }
        let entries = file.entries(ofGuest: guest) + file.entries(of: "global")
        let dir = entries.first { $0.key == "vm_dir" }?.value ?? "/etc/vmmanager/guests"
        return (dir.hasSuffix("/") ? dir : dir + "/") + config
    }
}

/// Whether a libvirt event belongs to a cluster action (or a `vmctl` action) on the guest.
public enum ClusterActionCheck {
    /// How long before an event the agent's report may come and still claim it: the agent records when its
    /// action ends, usually just after libvirt sent the event, but the two race.
    public static let slack: Duration = .seconds(5)

    /// True when an action holds the guest's lock now, or the agent recorded a transition for the guest at
    /// `eventTime - slack` or later.
    public static func isClusterAction(
        guest: String, at eventTime: Date, lockDirectory: String,
        notifier: Notifier
    ) -> Bool {
        if isLocked(guest: guest, lockDirectory: lockDirectory) { return true }
        guard let last = notifier.lastAction(on: guest) else { return false }
        return last.timeIntervalSince(eventTime) >= -slack.inSeconds
    }

    /// Whether an action holds the guest's lock, `<lockDirectory>/<guest>.lock` (``FileLock/isHeld(_:)``: a
    /// probe that never makes the holder wait and never creates the file).
    public static func isLocked(guest: String, lockDirectory: String) -> Bool {
        FileLock.isHeld("\(lockDirectory)/\(Notifier.fileSafe(guest)).lock")
    }
}

/// What the watcher remembers between events: each guest's last state, and what it reported lately (so a
/// guest's "crashed" and "stopped (crashed)" make one notification, not two).
private actor WatchMemory {
    private var states: [UUID: String] = [:]
    private var reported: [UUID: (kind: TransitionKind, at: Date)] = [:]
    private var startedAt: [UUID: Date] = [:]

    func exchangeState(_ uuid: UUID, _ state: String?) -> String? {
        let previous = states[uuid]
        if let state { states[uuid] = state }
        return previous
    }

    /// The guest started at `time`: a crash after it is a new failure, however soon it comes. (Events are judged
    /// out of order: an ambiguous one waits to settle, so the event's own time decides, not when it is judged.)
    func started(_ uuid: UUID, at time: Date) { startedAt[uuid] = time }

    func shouldReport(_ kind: TransitionKind, for uuid: UUID, at time: Date) -> Bool {
        defer { reported[uuid] = (kind, time) }
        guard let last = reported[uuid], time.timeIntervalSince(last.at) < 30 else { return true }
        if let start = startedAt[uuid], start > last.at, start < time { return true }
        if last.kind == kind && (kind == .crashed || kind == .shutDownByGuest) { return false }
        // A guest that shut itself down also stops: one notification.
        if last.kind == .shutDownByGuest && kind == .down { return false }
        return true
    }
}
