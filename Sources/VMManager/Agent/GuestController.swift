import FoundationEssentials
import Libvirt
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The HA actions on one guest — start, stop, monitor, migrate — exactly as the resource agent runs
/// them. `vmctl` calls the same code, so what an admin does by hand is what the cluster would do.
public struct GuestController: Sendable {
    public let settings: GuestSettings
    public let reporter: any TransitionReporter
    public let logger: Logger
    /// The cluster's name for this resource (OCF_RESOURCE_INSTANCE), used to remember the domain name.
    public let resourceInstance: String?
    /// The resource's id when Pacemaker runs the agent (its CIB can be written: utilization).
    public let pacemakerResource: String?

    public init(settings: GuestSettings, reporter: any TransitionReporter, logger: Logger,
                resourceInstance: String? = nil, pacemakerResource: String? = nil) {
        self.settings = settings
        self.reporter = reporter
        self.logger = logger
        self.resourceInstance = resourceInstance
        self.pacemakerResource = pacemakerResource
    }

    // MARK: - What the guest is

    /// The domain name: configured, read from the XML, or remembered from an earlier start of this
    /// resource (so stop and monitor stay exact when the XML becomes unreachable).
    public var domainName: String? { settings.domainName ?? memory.rememberedName }

    var memory: ResourceMemory {
        ResourceMemory(directory: settings.stateDirectory, instance: resourceInstance)
    }

    /// The guest's definition from its XML file, pinned. nil when no `config` is set.
    /// - Throws: ``VMError`` `.notInstalled` when the file is missing, `.misconfigured` when it does not parse
    ///   or names another guest.
    public func definitionFromConfig() throws -> DomainDefinition? {
        guard let path = settings.configPath else { return nil }
        guard let xml = readFile(path) else {
            throw VMError(.notInstalled, "the domain XML \(path) does not exist or cannot be read")
        }
        let parsed: DomainDefinition
        do { parsed = try DomainDefinition(xml: xml) } catch {
            throw VMError(.misconfigured, "\(path): \(error)")
        }
        if let name = settings.domainName, name != parsed.name {
            throw VMError(.misconfigured, "\(path) defines guest '\(parsed.name)', not '\(name)'")
        }
        return parsed
    }

    func connect(timeout: Duration, keepAlive: Bool = true) async throws -> Hypervisor {
        try await Hypervisor.connect(settings.hypervisor, timeout: min(.seconds(30), max(.seconds(2), timeout)),
                                     keepAlive: keepAlive, logger: logger)
    }

    // MARK: - Start

    /// Brings the guest up and ready within `budget`: define or redefine from its XML, refuse if it runs
    /// on a peer, resume / restore / boot, then wait for readiness.
    public func start(budget: Duration) async throws -> StartOutcome {
        // Every libvirt call inside has the time truly left in the operation as its deadline.
        try await OperationDeadline.within(budget) { try await bringUpGuest(budget: budget) }
    }

    private func bringUpGuest(budget: Duration) async throws -> StartOutcome {
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        let definition = try definitionFromConfig()
        guard let name = definition?.name ?? domainName else {
            throw VMError(.misconfigured, "no guest to manage: set 'domain' or 'config'")
        }
        guard Self.canBeADomainName(name) else {
            throw VMError(.misconfigured, "'\(ConfigError.excerpt(name))' cannot be a libvirt domain name (at most "
                             + "200 bytes, no '/' and no line breaks)")
        }
        if let started = await startedGuestStillRunning(insteadOf: name, timeout: min(.seconds(5), budget / 4)) {
            throw VMError(.misconfigured, "this resource started guest '\(started)', which still runs, but its XML "
                             + "now names '\(name)'; stop the resource before pointing it at another guest")
        }
        if let refused = settings.refused.first { throw VMError(.misconfigured, refused) }
        let lock = try await GuestLock.acquire(guest: name, directory: settings.lockDirectory,
                                               timeout: deadline - clock.now, purpose: "start")
        defer { lock.release() }
        memory.remember(name)
        if let config = settings.configPath { memory.rememberConfig(name, config) }
        do {
            let host = try await connect(timeout: deadline - clock.now)
            let domain = try await ensureDefined(name: name, definition: definition, on: host)
            memory.rememberUUID(name, domain.uuid)
            try await startHostResources(for: definition, on: host)
            try await StartGuard(peers: settings.peers, logger: logger)
                .check(domain, localHost: try? await host.connection.hostname(), timeout: .seconds(5))
            var effective = definition
            if effective == nil, let xml = try? await domain.xml(.inactive) { effective = try? DomainDefinition(xml: xml) }
            let probe = settings.readiness.probe(for: effective)
            let outcome = try await bringUp(domain, on: host, probe: probe, definition: effective, deadline: deadline)
            await syncUtilization(domain, deadline: deadline)
            return outcome
        } catch {
            reporter.report(Transition(kind: .startFailed, guest: name, uuid: definition?.uuid,
                                       reason: "\(error)", configPath: settings.configPath))
            throw error
        }
    }

    /// Defines the guest from its XML when it is not defined, and redefines a stopped guest whose XML
    /// changed. Never undefines.
    func ensureDefined(name: String, definition: DomainDefinition?, on host: Hypervisor) async throws -> Domain {
        let existing = try await host.guestIfDefined(name)
        guard let definition else {
            guard let existing else {
                throw VMError(.notInstalled, "guest \(name) is not defined on \(settings.hypervisor) and no "
                                 + "'config' XML is set to define it from")
            }
            return existing
        }
        var toDefine = definition
        if let existing, definition.uuid == nil {
            // An XML without <uuid> for a guest defined earlier without pinning: keep its UUID rather than
            // refuse to start it; `vmctl check` reports that its identity is not pinned.
            toDefine = definition.settingUUID(existing.uuid)
        }
        let pinned = StableIdentity.pin(toDefine).definition
        // Change detection is on the file as the admin wrote it, not on our pinned rendering of it.
        let digest = ResourceMemory.digest(definition.xml)
        if let existing {
            let active = try await libvirt("reading the state of \(name)") { try await existing.state().isActive }
            if active || memory.definitionDigest(name) == digest { return existing }
            logger.info("redefining guest: its XML changed", metadata: ["domain.name": "\(name)"])
        }
        let outcome = try await host.define(xml: pinned.xml, pinIdentity: true)
        memory.rememberDefinition(name, digest: digest)
        return outcome.domain
    }

    func bringUp(_ domain: Domain, on host: Hypervisor, probe: ReadinessProbe, definition: DomainDefinition?,
                 deadline: ContinuousClock.Instant) async throws -> StartOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let name = domain.name
        let node = await nodeName(host)
        var state = try await libvirt("reading the state of \(name)") { try await domain.state() }
        if !state.isActive { reportInterruptedStop(name, uuid: domain.uuid) }
        // A pause that is a step of some libvirt job (its own start, a save, a migration) ends by itself:
        // wait for it instead of resuming a guest that libvirt is still bringing up.
        while state.kind == .paused, Self.transientPauses.contains(state.reasonName), clock.now < deadline {
            logger.info("waiting for a libvirt job to end", metadata: ["domain.name": "\(name)",
                                                                       "state": "\(state.description)"])
            try await Task.sleep(for: .milliseconds(200))
            state = try await libvirt("reading the state of \(name)") { try await domain.state() }
        }
        let serialLog = definition?.serials.first(where: { $0.type == "file" })?.sourcePath
        var context = BootContext(coldBoot: true, serialLog: serialLog,
                                  serialOffset: serialLog.map(SerialFollower.size(of:)) ?? 0)
        let how: StartOutcome.How
        var restoreFailure: String?
        var restoreTime: Duration?
        var restoredImage: SavedImage?
        switch state.kind {
        case .running, .blocked, .shuttingDown:
            // Started outside the agent, or by a start that was killed mid-boot: it must be ready like any
            // other start's guest before start may say so.
            let remembered = memory.rememberedGeneration(name)
            let ours = remembered != nil && remembered == savedStateStore(for: name).generation()?.generation
            recordComingUp(domain, node: node, how: "found running")
            let ready = try await BootWait.waitUntilReady(domain, probe: probe, timeout: max(.zero, deadline - clock.now),
                                                          context: BootContext(coldBoot: false))
            memory.rememberFailure(name, nil)
            if !ours {
                var t = Transition(kind: .up, guest: name, uuid: domain.uuid,
                                   reason: "start: already running (started outside the agent), and ready",
                                   previousState: state.description, newState: state.description,
                                   configPath: settings.configPath)
                t.bootWaitDuration = ready
                reporter.report(t)
            }
            return StartOutcome(how: .alreadyRunning, readyAfter: probe == .none ? nil : ready,
                                duration: clock.now - started)
        case .paused where Self.failedPauses.contains(state.reasonName):
            throw VMError(.failed, "guest \(name) is \(state); resuming it would not help. Fix the cause (its "
                             + "storage, its kernel) and start it again, or stop it for a fresh boot")
        case .paused where Self.transientPauses.contains(state.reasonName):
            throw VMError(.failed, "guest \(name) is still \(state) after the start's budget")
        case .paused:
            try await libvirt("resuming \(name)") { try await domain.resume() }
            recordComingUp(domain, node: node, how: "resumed")
            how = .resumed
            context.coldBoot = false
        case .pmSuspended:
            throw VMError(.failed, "guest \(name) is suspended by its own power management (pmsuspended)")
        default:
            if state.kind == .crashed {
                // A crashed guest keeps its QEMU process; it must be destroyed before it can start again.
                try await libvirt("clearing crashed guest \(name)") { try await domain.destroy() }
            }
            let t0 = clock.now
            switch try await restoreSavedState(domain, node: node, deadline: deadline) {
            case .restored(let image):
                how = .restored
                context.coldBoot = false
                restoreTime = clock.now - t0
                restoredImage = image
            case .failed(let why):
                how = .booted
                restoreFailure = why
                recordComingUp(domain, node: node, how: "booted")
            case .noImage:
                // Force-boot: libvirt must never restore an image vmmanager did not choose.
                try await libvirt("starting \(name)") {
                    try await domain.start(flags: .forceBoot, timeout: max(.seconds(1), deadline - clock.now))
                }
                recordComingUp(domain, node: node, how: "booted")
                how = .booted
            }
        }
        let readyAfter = try await BootWait.waitUntilReady(domain, probe: probe, timeout: max(.zero, deadline - clock.now),
                                                           context: context)
        memory.rememberFailure(name, nil)
        // A restored or resumed guest's clock stands where it stopped; set it (libvirt-guests' SYNC_TIME).
        let skew = how == .booted ? nil : await synchroniseClock(domain, deadline: deadline)
        let newState = (try? await domain.state())?.description
        var reason = "start: \(how.rawValue)"
        if let image = restoredImage {
            reason += image.isManagedSave ? " (libvirt's managed-save image" : " (\(image.path)"
            if let p = image.provenance { reason += ", saved on \(p.node) \(Int(image.age().rounded())) s before" }
            reason += ")"
        }
        if let skew { reason += "; guest clock corrected by \(EventText.formatSeconds(skew))" }
        var t = Transition(kind: .up, guest: name, uuid: domain.uuid, reason: reason,
                           previousState: state.description, newState: newState, configPath: settings.configPath)
        if how == .restored { t.kind = .resumedFromSaved }
        if let restoreFailure {
            t.kind = .restoreFailedColdBooted
            t.reason = restoreFailure
        }
        if let image = restoredImage {
            t.details["image"] = image.path
            if let p = image.provenance {
                t.details["saved_on"] = p.node
                t.details["saved_at"] = EventText.iso8601(p.savedAt)
            }
        }
        if let skew { t.details["clock_corrected"] = EventText.formatSeconds(skew) }
        t.restoreDuration = restoreTime
        t.bootWaitDuration = readyAfter
        if probe == .guestAgent {
            // The agent answers already: the uptime costs one guest-exec, and tells a resumed guest from a
            // rebooted one in the mail.
            t.guestUptime = try? await GuestUptime.read(domain, timeout: .seconds(2))
        }
        reporter.report(t)
        logger.info("guest up", metadata: ["domain.name": "\(name)", "how": "\(how.rawValue)",
                                           "ready_after": "\(readyAfter.formattedSeconds)"])
        return StartOutcome(how: how, readyAfter: probe == .none ? nil : readyAfter, duration: clock.now - started,
                            restoreFailure: restoreFailure, clockCorrection: skew)
    }

    /// Whether libvirt could have a domain called `name`: it names files after it (NAME_MAX bytes, no '/').
    static func canBeADomainName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 200 && !name.contains("/") && !name.contains(where: { $0.isNewline })
    }

    /// Pauses that are a step of a libvirt job and end by themselves.
    static let transientPauses: Set<String> = ["starting up", "migrating", "saving", "dumping", "shutting down",
                                               "creating snapshot", "post-copy"]
    /// Pauses that mean the guest is broken: resuming it repeats the fault.
    static let failedPauses: Set<String> = ["ioerror", "watchdog", "crashed", "post-copy failed"]

    // MARK: - Stop

    /// Stops the guest within `budget` by the stop chain. Success when it is not running afterwards;
    /// already stopped (or never started here) is success.
    /// - Parameter lastResort: kill the QEMU process when every method failed (the cluster's stop must
    ///   end with the guest stopped); `vmctl save` passes false and reports the failure instead.
    public func stop(budget: Duration, lastResort allowKill: Bool = true) async throws -> StopOutcome {
        try await OperationDeadline.within(budget) { try await stopGuest(budget: budget, lastResort: allowKill) }
    }

    private func stopGuest(budget: Duration, lastResort allowKill: Bool) async throws -> StopOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + budget
        guard var name = (try? definitionFromConfig())??.name ?? domainName else {
            // Nothing was ever started by this resource on this node: it cannot be running here.
            return StopOutcome(method: nil, failures: [], duration: .zero)
        }
        if !Self.canBeADomainName(name) {
            // libvirt keeps a file named after every domain: no guest with this name can run, so it is stopped.
            logger.error("no guest can have this name; nothing to stop", metadata: ["domain.name": "\(ConfigError.excerpt(name))"])
            return StopOutcome(method: nil, failures: [], duration: .zero)
        }
        if let started = await startedGuestStillRunning(insteadOf: name, timeout: min(.seconds(5), budget / 4)) {
            // The resource started `started`, which still runs; its XML now names another guest. Stopping
            // the other one would leave ours running twice: stop the one this resource means.
            logger.error("the XML now names another guest; stopping the one this resource started",
                         metadata: ["domain.name": "\(started)", "xml_names": "\(name)"])
            name = started
        }
        let lock = try await GuestLock.acquire(guest: name, directory: settings.lockDirectory,
                                               timeout: max(.seconds(1), budget / 3), purpose: "stop")
        defer { lock.release() }
        let host: Hypervisor
        let domain: Domain?
        do {
            host = try await connect(timeout: min(.seconds(10), budget / 3))
            domain = try await host.guestIfDefined(name)
        } catch {
            // libvirtd does not answer: the guest's QEMU process is all we can act on.
            return try await lastResort(name, because: "libvirt unreachable: \(error)", deadline: deadline,
                                        started: started, failures: [])
        }
        guard let domain else {
            return try await lastResort(name, because: "guest not defined", deadline: deadline, started: started,
                                        failures: [], quietWhenAbsent: true)
        }
        let previousState = try? await domain.state()
        let previous = previousState?.description
        if previousState?.isActive == false {
            reportInterruptedStop(name, uuid: domain.uuid)
        } else if previousState != nil {
            // Written before acting: a stop killed mid-way (the node fenced it, an admin's kill -9) leaves it,
            // and the next stop or start reports the `down` it could not.
            memory.recordStopIntent(name, previousState: previous ?? "running")
        }
        if settings.saveConfigOnStop { await saveConfig(domain) }
        var policy = StopPolicy(methods: settings.stopMethods, timeout: deadline - clock.now)
        policy.shutdownModes = settings.shutdownModes
        let knownFailure = memory.failure(name)
        if let knownFailure, policy.methods.count > 1, policy.methods.contains(.save) {
            // Saving a guest the monitor judged failed (hung, agent silent) preserves the fault: the next
            // start would restore it still broken. Recovery means a fresh boot.
            policy.methods.removeAll { $0 == .save }
            logger.warning("not saving a failed guest", metadata: ["domain.name": "\(name)", "why": "\(knownFailure)"])
        }
        let store = savedStateStore(for: name)
        if store.kind == .directory && settings.stopMethods.contains(.save) {
            // The image is written under a temporary name and committed with its provenance once complete:
            // a node that dies mid-save leaves the previous state intact.
            try? DurableFile.createDirectory(store.directory)
            policy.saveFile = store.temporaryImagePath()
        }
        let definition = (try? await domain.xml(.inactive)).flatMap { try? DomainDefinition(xml: $0) }
        do {
            let outcome = try await host.stop(domain, policy: policy)
            var saved: SavedImage?
            var saveProblem: String?
            if outcome.method == .save {
                (saved, saveProblem) = await commitSave(domain, on: host, store: store, temporary: policy.saveFile,
                                                        definition: definition)
            } else if let temporary = policy.saveFile {
                unlink(temporary)  // what a failed save left
            }
            if let method = outcome.method {
                var reason = "stop: \(method)"
                if let saved { reason += " to \(saved.isManagedSave ? "libvirt's managed-save image" : saved.path)" }
                if outcome.escalated {
                    reason += " after " + outcome.failures.map { "\($0.method) failed: \($0.reason)" }.joined(separator: "; ")
                }
                if let saveProblem { reason += "; " + saveProblem }
                if let knownFailure, !policy.methods.contains(.save), settings.stopMethods.contains(.save) {
                    reason += "; not saved: the monitor had judged it failed (\(knownFailure))"
                }
                var kind: TransitionKind = outcome.escalated ? .stopEscalated : .down
                if saved?.isConflictCopy == true { kind = .savedStateConflict }
                var t = Transition(kind: kind, guest: name, uuid: domain.uuid, reason: reason, previousState: previous,
                                   configPath: settings.configPath)
                t.newState = (try? await domain.state())?.description
                if let saved { t.details["image"] = saved.path }
                reporter.report(t)
                memory.forgetGeneration(name)
                memory.rememberFailure(name, nil)
            }
            memory.clearStopIntent(name)
            return outcome
        } catch {
            if !allowKill { throw error }
            return try await lastResort(name, because: "\(error)", deadline: deadline, started: started, failures: [],
                                        uuid: domain.uuid)
        }
    }

    /// Reports the `down` of a stop that was killed after it acted but before it reported: the guest is
    /// down now, and its transition must not be lost.
    func reportInterruptedStop(_ name: String, uuid: UUID?) {
        guard let previous = memory.stopIntent(name) else { return }
        reporter.report(Transition(kind: .down, guest: name, uuid: uuid,
                                   reason: "stop: an earlier stop was interrupted (its process was killed) after it "
                                       + "had begun; the guest is down", previousState: previous,
                                   configPath: settings.configPath))
        memory.clearStopIntent(name)
        memory.forgetGeneration(name)
    }

    /// Kills the guest's QEMU process directly (libvirtd is not answering or every method failed).
    func lastResort(_ name: String, because reason: String, deadline: ContinuousClock.Instant,
                    started: ContinuousClock.Instant, failures: [(method: StopMethod, reason: String)],
                    quietWhenAbsent: Bool = false, uuid: UUID? = nil) async throws -> StopOutcome {
        let clock = ContinuousClock()
        let process = qemuProcess(name, uuid: uuid)
        guard process.find() != nil else {
            return StopOutcome(method: nil, failures: failures, duration: clock.now - started)
        }
        logger.warning("killing the guest's QEMU process directly", metadata: ["domain.name": "\(name)",
                                                                             "reason": "\(reason)"])
        if await process.kill(timeout: max(.seconds(1), deadline - clock.now)) {
            reporter.report(Transition(kind: .stopEscalated, guest: name, uuid: uuid,
                                       reason: "QEMU process killed: \(reason)", configPath: settings.configPath))
            return StopOutcome(method: .destroy, failures: failures + [(.destroy, reason)],
                               duration: clock.now - started)
        }
        throw VMError(.failed, "could not stop guest \(name): \(reason); its QEMU process survived SIGKILL")
    }

    /// The guest's QEMU process under this node's libvirtd, matched by name and, when known, UUID (given,
    /// from its XML, or the one vmmanager derives when the XML pins none).
    func qemuProcess(_ name: String, uuid: UUID?) -> QEMUProcess {
        var uuid = uuid ?? memory.rememberedUUID(name)
        if uuid == nil, let definition = (try? definitionFromConfig()) ?? nil, definition.name == name {
            uuid = definition.uuid ?? StableIdentity.uuid(forName: name)
        }
        return QEMUProcess(guest: name, uuid: uuid, hypervisor: settings.hypervisor)
    }

    /// Writes the guest's current inactive definition back to its XML file when it changed.
    func saveConfig(_ domain: Domain) async {
        guard let path = settings.configPath, let xml = try? await domain.xml([.inactive, .secure]),
              (try? DomainDefinition(xml: xml)) != nil, readFile(path) != xml
        else { return }
        let temporary = path + ".vmmanager-tmp"
        do {
            try Data(xml.utf8).write(to: URL(fileURLWithPath: temporary))
            _ = rename(temporary, path)
            memory.rememberDefinition(domain.name, digest: ResourceMemory.digest(xml))
            await syncConfig(path, timeout: .seconds(20))
        } catch {
            logger.warning("could not save the definition on stop", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    // MARK: - Monitor

    public enum Health: Sendable, Equatable {
        case running
        case notRunning
        case failed(String)
        /// The resource's settings contradict what runs (OCF_ERR_CONFIGURED).
        case misconfigured(String)
    }

    /// The guest this resource started here (remembered by resource instance), when it is not `name` and
    /// still runs: a resource that started a guest keeps meaning that guest.
    func startedGuestStillRunning(insteadOf name: String, timeout: Duration) async -> String? {
        guard let remembered = memory.rememberedName, remembered != name,
              let host = try? await connect(timeout: timeout, keepAlive: false),
              let domain = try? await host.guestIfDefined(remembered),
              (try? await domain.state().isActive) == true
        else { return nil }
        return remembered
    }

    /// The guest's health at an OCF check level: 0 = libvirt state, 10 = + guest agent answers,
    /// 20 = + the readiness probe holds. Paused by an I/O error, crashed and pmsuspended are failures.
    public func monitor(depth: Int, timeout: Duration) async -> Health {
        await OperationDeadline.within(timeout) { await monitorGuest(depth: depth, timeout: timeout) }
    }

    private func monitorGuest(depth: Int, timeout: Duration) async -> Health {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        guard let name = (try? definitionFromConfig())??.name ?? domainName else { return .notRunning }
        guard Self.canBeADomainName(name) else { return .notRunning }
        if let started = await startedGuestStillRunning(insteadOf: name, timeout: min(.seconds(5), timeout / 2)) {
            return .misconfigured("this resource started guest '\(started)', which still runs, but its XML "
                                  + "(\(settings.configPath ?? "-")) now names '\(name)'. Put the XML back, or stop the "
                                  + "resource (its stop stops '\(started)') before changing it")
        }
        var health = await judge(name, depth: depth, timeout: timeout)
        if health == .running, !settings.monitorScripts.paths.isEmpty,
           let why = await settings.monitorScripts.firstFailure(guest: name, timeout: deadline - clock.now - .milliseconds(500)) {
            health = .failed(why)
        }
        switch health {
        case .running: memory.rememberFailure(name, nil)
        case .failed(let why): memory.rememberFailure(name, why)
        case .notRunning, .misconfigured: break
        }
        return health
    }

    private func judge(_ name: String, depth: Int, timeout: Duration) async -> Health {
        let host: Hypervisor
        let domain: Domain?
        do {
            host = try await connect(timeout: timeout, keepAlive: false)
            domain = try await host.guestIfDefined(name)
        } catch {
            // libvirtd is down; the guest itself may be fine. Look at its process.
            logger.warning("libvirt unreachable; judging by the QEMU process", metadata: ["error": "\(error)"])
            return qemuProcess(name, uuid: nil).find() != nil ? .running : .notRunning
        }
        guard let domain else { return .notRunning }
        let state: DomainState
        do { state = try await domain.state() } catch {
            return .failed("cannot read the state of \(name): \(error.message)")
        }
        switch state.kind {
        case .shutOff, .noState: return .notRunning
        case .crashed: return .failed("guest \(name) crashed (\(state.reasonName))")
        case .pmSuspended: return .failed("guest \(name) is suspended by its own power management")
        case .paused where state.isPausedByIOError:
            return .failed("guest \(name) is paused by an I/O error on its storage")
        case .paused where ["watchdog", "crashed", "post-copy failed"].contains(state.reasonName):
            return .failed("guest \(name) is paused (\(state.reasonName))")
        default: break
        }
        if depth >= 10, state.kind == .running {
            do { try await domain.pingAgent(timeout: .seconds(3)) } catch {
                return .failed("guest \(name)'s guest agent does not answer: \(error.message)")
            }
        }
        if state.kind == .running { await syncUtilization(domain, deadline: ContinuousClock.now + timeout / 2) }
        if depth >= 20, state.kind == .running {
            var definition = (try? definitionFromConfig()) ?? nil
            if definition == nil, let xml = try? await domain.xml(.inactive) { definition = try? DomainDefinition(xml: xml) }
            let probe = settings.readiness.probe(for: definition)
            do {
                try await BootWait.waitUntilReady(domain, probe: probe, timeout: .seconds(5),
                                                  context: BootContext(coldBoot: false))
            } catch { return .failed("\(error)") }
        }
        return .running
    }

    // MARK: - Migration

    /// Live-migrates the running guest to `target` (a node name), persistent there, within `budget`;
    /// at the deadline the migration is aborted and the guest keeps running here.
    public func migrate(to target: String, budget: Duration) async throws -> MigrationReport {
        try await OperationDeadline.within(budget) { try await migrateGuest(to: target, budget: budget) }
    }

    private func migrateGuest(to target: String, budget: Duration) async throws -> MigrationReport {
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        guard let name = (try? definitionFromConfig())??.name ?? domainName else {
            throw VMError(.misconfigured, "no guest to manage: set 'domain' or 'config'")
        }
        let lock = try await GuestLock.acquire(guest: name, directory: settings.lockDirectory,
                                               timeout: budget / 4, purpose: "migrate_to \(target)")
        defer { lock.release() }
        let host = try await connect(timeout: deadline - clock.now)
        let domain = try await host.guest(name)
        let uri = settings.migration.remoteURI(for: target, hypervisor: settings.hypervisor)
        let given = settings.migration.options
        var options = MigrationOptions()
        options.migrateURI = given.tunnelled ? nil : settings.migration.dataURI(for: target)
        if settings.migration.downtimeMilliseconds > 0 { options.maxDowntime = .milliseconds(settings.migration.downtimeMilliseconds) }
        if settings.migration.speedMiBPerSecond > 0 { options.bandwidthMiBPerSecond = UInt64(settings.migration.speedMiBPerSecond) }
        else if let bandwidth = given.bandwidthMiBPerSecond { options.bandwidthMiBPerSecond = UInt64(bandwidth) }
        options.tunnelled = given.tunnelled
        options.compressed = given.compressed
        options.autoConverge = given.autoConverge
        options.postcopy = given.postcopy
        options.unsafe = given.unsafe
        options.tls = given.tls
        options.parallelConnections = given.parallelConnections
        options.changeProtection = given.changeProtection
        options.listenAddress = given.listenAddress
        options.copyStorage = switch given.copyStorage {
        case .all: .all
        case .incremental: .incremental
        case nil: nil
        }
        options.suspendAfter = given.suspendAfterSeconds.map { .seconds($0) }
        options.timeout = max(.seconds(1), deadline - clock.now - .seconds(2))
        let report = try await host.migrate(domain, to: uri, options: options, peerToPeer: given.peerToPeer)
        var t = Transition(kind: .migrated, guest: name, uuid: domain.uuid, reason: "migrated to \(target)",
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
        guard let name = (try? definitionFromConfig())??.name ?? domainName else {
            throw VMError(.misconfigured, "no guest to manage: set 'domain' or 'config'")
        }
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

/// What the agent remembers between invocations, under `state_dir`.
struct ResourceMemory {
    let directory: String
    let instance: String?

    var rememberedName: String? {
        guard let instance else { return nil }
        return readFile("\(directory)/resources/\(instance)")?.trimmed.nilIfEmpty
    }

    func remember(_ name: String) {
        guard let instance, rememberedName != name else { return }
        write("\(directory)/resources", instance, name)
    }

    func definitionDigest(_ name: String) -> String? {
        readFile("\(directory)/definitions/\(name).sha1")?.trimmed
    }

    func rememberDefinition(_ name: String, digest: String) {
        write("\(directory)/definitions", "\(name).sha1", digest)
    }

    /// The domain XML the agent last started the guest from (so `vmctl`, given only a name, finds the
    /// guest's saved state where the agent keeps it).
    func rememberedConfig(_ name: String) -> String? {
        readFile("\(directory)/configs/\(name)")?.trimmed.nilIfEmpty
    }

    func rememberConfig(_ name: String, _ path: String) {
        if rememberedConfig(name) != path { write("\(directory)/configs", name, path) }
    }

    /// The generation the guest came up with on this node: what its image carries when this node saves it.
    func rememberedGeneration(_ name: String) -> UInt64? {
        readFile("\(directory)/generations/\(name)").flatMap { UInt64($0.trimmed) }
    }

    func rememberGeneration(_ name: String, _ generation: UInt64) {
        write("\(directory)/generations", name, "\(generation)")
    }

    /// A stop that began (the guest's state then) and has not reported its end.
    func stopIntent(_ name: String) -> String? {
        readFile("\(directory)/stopping/\(name)")?.trimmed.nilIfEmpty
    }

    func recordStopIntent(_ name: String, previousState: String) {
        write("\(directory)/stopping", name, previousState)
    }

    func clearStopIntent(_ name: String) {
        unlink("\(directory)/stopping/\(name)")
    }

    /// The UUID the guest had when this node last started it: what its QEMU's `-uuid` says.
    func rememberedUUID(_ name: String) -> UUID? {
        readFile("\(directory)/uuids/\(name)").flatMap { UUID(uuidString: $0.trimmed) }
    }

    func rememberUUID(_ name: String, _ uuid: UUID) {
        if rememberedUUID(name) != uuid { write("\(directory)/uuids", name, uuid.uuidString.lowercased()) }
    }

    func forgetGeneration(_ name: String) {
        unlink("\(directory)/generations/\(name)")
    }

    /// What the last monitor found wrong inside the running guest (nil: healthy, or never judged). A stop
    /// does not save a guest known to be failed: saving would preserve the fault.
    func failure(_ name: String) -> String? {
        readFile("\(directory)/health/\(name)")?.trimmed.nilIfEmpty
    }

    func rememberFailure(_ name: String, _ why: String?) {
        guard failure(name) != why else { return }
        if let why { write("\(directory)/health", name, why) } else { unlink("\(directory)/health/\(name)") }
    }

    /// Where this node last saved the guest, to find an image an earlier configuration left behind.
    func savedStateDirectory(_ name: String) -> String? {
        readFile("\(directory)/saved-state/\(name)")?.trimmed.nilIfEmpty
    }

    func rememberSavedStateDirectory(_ name: String, _ path: String) {
        if savedStateDirectory(name) != path { write("\(directory)/saved-state", name, path) }
    }

    func write(_ dir: String, _ file: String, _ text: String) {
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? Data((text + "\n").utf8).write(to: URL(fileURLWithPath: "\(dir)/\(file)"), options: .atomic)
    }

    static func digest(_ text: String) -> String {
        SHA1.hash(Array(text.utf8)).map { b in
            let h = String(b, radix: 16)
            return h.count == 1 ? "0" + h : h
        }.joined()
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

extension GuestController {
    /// Boots the guest from scratch past a saved image that an admin decided not to restore. The image
    /// is kept aside in the quarantine directory first (libvirt would delete it), then the guest is
    /// cold-booted and waited for.
    public func coldBoot(budget: Duration) async throws -> StartOutcome {
        try await OperationDeadline.within(budget) { try await coldBootGuest(budget: budget) }
    }

    private func coldBootGuest(budget: Duration) async throws -> StartOutcome {
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        guard let name = (try? definitionFromConfig())??.name ?? domainName else {
            throw VMError(.misconfigured, "no guest to manage: set 'domain' or 'config'")
        }
        let lock = try await GuestLock.acquire(guest: name, directory: settings.lockDirectory,
                                               timeout: budget / 4, purpose: "cold boot")
        defer { lock.release() }
        let host = try await connect(timeout: budget)
        let domain = try await host.guest(name)
        if try await domain.state().isActive {
            throw VMError(.refused, "guest \(name) is running; stop it before a cold boot")
        }
        let kept = try await quarantineAll(try await savedImages(of: domain).map(\.image), of: domain)
        try await libvirt("cold-booting \(name)") { try await domain.start(flags: .forceBoot, timeout: budget) }
        recordComingUp(domain, node: await nodeName(host), how: "booted by an admin")
        let definition = try? DomainDefinition(xml: await domain.xml(.inactive))
        let ready = try await BootWait.waitUntilReady(domain, probe: settings.readiness.probe(for: definition),
                                                      timeout: max(.zero, deadline - clock.now))
        var t = Transition(kind: .up, guest: name, uuid: domain.uuid,
                           reason: "cold boot by an admin" + (kept.isEmpty ? "" : "; saved image kept as " + kept.joined(separator: ", ")),
                           configPath: settings.configPath)
        t.bootWaitDuration = ready
        reporter.report(t)
        return StartOutcome(how: .booted, readyAfter: ready, duration: clock.now - (deadline - budget),
                            restoreFailure: kept.isEmpty ? nil : "saved image kept as " + kept.joined(separator: ", "))
    }
}
