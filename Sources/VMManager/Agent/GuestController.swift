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

    public init(settings: GuestSettings, reporter: any TransitionReporter, logger: Logger,
                resourceInstance: String? = nil) {
        self.settings = settings
        self.reporter = reporter
        self.logger = logger
        self.resourceInstance = resourceInstance
    }

    // MARK: - What the guest is

    /// The domain name: configured, read from the XML, or remembered from an earlier start of this
    /// resource (so stop and monitor stay exact when the XML becomes unreachable).
    public var domainName: String? { settings.domainName ?? memory.rememberedName }

    var memory: ResourceMemory {
        ResourceMemory(directory: settings.stateDirectory, instance: resourceInstance)
    }

    /// The guest's definition from its XML file, pinned. nil when no `config` is set.
    /// - Throws: ``AgentError`` `.notInstalled` when the file is missing, `.misconfigured` when it does not parse
    ///   or names another guest.
    public func definitionFromConfig() throws -> DomainDefinition? {
        guard let path = settings.configPath else { return nil }
        guard let xml = readFile(path) else {
            throw AgentError(.notInstalled, "the domain XML \(path) does not exist or cannot be read")
        }
        let parsed: DomainDefinition
        do { parsed = try DomainDefinition(xml: xml) } catch {
            throw AgentError(.misconfigured, "\(path): \(error)")
        }
        if let name = settings.domainName, name != parsed.name {
            throw AgentError(.misconfigured, "\(path) defines guest '\(parsed.name)', not '\(name)'")
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
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        let definition = try definitionFromConfig()
        guard let name = definition?.name ?? domainName else {
            throw AgentError(.misconfigured, "no guest to manage: set 'domain' or 'config'")
        }
        let lock = try await GuestLock.acquire(guest: name, directory: settings.lockDirectory,
                                               timeout: deadline - clock.now, purpose: "start")
        defer { lock.release() }
        memory.remember(name)
        do {
            let host = try await connect(timeout: deadline - clock.now)
            let domain = try await ensureDefined(name: name, definition: definition, on: host)
            try await StartGuard(peers: settings.peers, logger: logger).check(domain, timeout: .seconds(5))
            var effective = definition
            if effective == nil, let xml = try? await domain.xml(.inactive) { effective = try? DomainDefinition(xml: xml) }
            let probe = settings.readiness.probe(for: effective)
            return try await bringUp(domain, on: host, probe: probe, definition: effective, deadline: deadline)
        } catch {
            reporter.report(Transition(kind: "start-failed", guest: name, uuid: definition?.uuid,
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
                throw AgentError(.notInstalled, "guest \(name) is not defined on \(settings.hypervisor) and no "
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
        let state = try await libvirt("reading the state of \(name)") { try await domain.state() }
        let serialLog = definition?.serials.first(where: { $0.type == "file" })?.sourcePath
        var context = BootContext(coldBoot: true, serialLog: serialLog,
                                  serialOffset: serialLog.map(SerialFollower.size(of:)) ?? 0)
        let how: StartOutcome.How
        var restoreFailure: String?
        var restoreTime: Duration?
        switch state.kind {
        case .running, .blocked, .shuttingDown:
            return StartOutcome(how: .alreadyRunning, readyAfter: nil, duration: clock.now - started)
        case .paused:
            try await libvirt("resuming \(name)") { try await domain.resume() }
            how = .resumed
            context.coldBoot = false
        case .pmSuspended:
            throw AgentError(.failed, "guest \(name) is suspended by its own power management (pmsuspended)")
        default:
            if state.kind == .crashed {
                // A crashed guest keeps its QEMU process; it must be destroyed before it can start again.
                try await libvirt("clearing crashed guest \(name)") { try await domain.destroy() }
            }
            let t0 = clock.now
            let restored = try await restoreSaved(domain, timeout: deadline - clock.now)
            switch restored {
            case .restored:
                how = .restored
                context.coldBoot = false
                restoreTime = clock.now - t0
            case .failed(let why):
                how = .booted
                restoreFailure = why
            case .noImage:
                try await libvirt("starting \(name)") { try await domain.start(timeout: deadline - clock.now) }
                how = .booted
            }
        }
        let readyAfter = try await BootWait.waitUntilReady(domain, probe: probe, timeout: max(.zero, deadline - clock.now),
                                                           context: context)
        let newState = (try? await domain.state())?.description
        var t = Transition(kind: "up", guest: name, uuid: domain.uuid, reason: "start: \(how.rawValue)",
                           previousState: state.description, newState: newState, configPath: settings.configPath)
        if how == .restored { t.kind = "resumed-from-saved" }
        if let restoreFailure {
            t.kind = "restore-failed-cold-booted"
            t.reason = restoreFailure
        }
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
                            restoreFailure: restoreFailure)
    }

    enum RestoreResult { case noImage, restored, failed(String) }

    /// Restores a saved image (the snapshot directory's, else libvirt's managed-save image). An image that
    /// fails to restore is kept aside in the quarantine directory, never deleted, and the guest is
    /// cold-booted — the libvirt face of the thesis's "CPU features differ" question.
    func restoreSaved(_ domain: Domain, timeout: Duration) async throws -> RestoreResult {
        let name = domain.name
        if let dir = settings.snapshotDirectory {
            let file = "\(dir)/\(name).state"
            guard FileManager.default.fileExists(atPath: file) else { return .noImage }
            do {
                try await domain.connection.restoreDomain(from: file, flags: .running, timeout: timeout)
                // The image is now stale: restoring it again would roll the guest's disks back in time.
                try? FileManager.default.removeItem(atPath: file)
                return .restored
            } catch {
                let kept = try quarantine(file, guest: name)
                try await libvirt("cold-booting \(name)") { try await domain.start(timeout: timeout) }
                return .failed("restoring \(file) failed (\(error.message)); the image was kept as \(kept) and "
                               + "the guest was cold-booted")
            }
        }
        let hasImage = try await libvirt("checking \(name) for a managed-save image") {
            try await domain.isPersistent() ? try await domain.hasManagedSaveImage() : false
        }
        guard hasImage else { return .noImage }
        do {
            try await domain.start(timeout: timeout)
            return .restored
        } catch {
            // libvirt deletes the image when told to boot past it, so keep a hard link first.
            let image = "\(settings.managedSaveDirectory)/\(name).save"
            guard FileManager.default.fileExists(atPath: image) else {
                throw AgentError(.failed, "restoring \(name) from its managed-save image failed (\(error.message)), "
                                 + "and the image is not at \(image) to keep it aside; refusing to discard it. "
                                 + "Set managed_save_dir, or run `vmctl start \(name) --force-boot` to boot anyway")
            }
            let kept = try quarantine(image, guest: name, link: true)
            try await libvirt("cold-booting \(name)") { try await domain.start(flags: .forceBoot, timeout: timeout) }
            return .failed("restoring the managed-save image failed (\(error.message)); the image was kept as "
                           + "\(kept) and the guest was cold-booted")
        }
    }

    /// Moves (or hard-links) a save image into the quarantine directory, stamped with the time.
    func quarantine(_ path: String, guest: String, link: Bool = false) throws -> String {
        let dir = settings.quarantineDirectory
        let stamp = Int(Date().timeIntervalSince1970)
        let target = "\(dir)/\(guest)-\(stamp).\(path.split(separator: ".").last ?? "save")"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            if link { try FileManager.default.linkItem(atPath: path, toPath: target) }
            else { try FileManager.default.moveItem(atPath: path, toPath: target) }
        } catch {
            throw AgentError(.failed, "cannot keep the failed image \(path) aside in \(dir) (\(error)); refusing to "
                             + "discard it")
        }
        return target
    }

    // MARK: - Stop

    /// Stops the guest within `budget` by the stop chain. Success when it is not running afterwards;
    /// already stopped (or never started here) is success.
    public func stop(budget: Duration) async throws -> StopOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + budget
        guard let name = (try? definitionFromConfig())??.name ?? domainName else {
            // Nothing was ever started by this resource on this node: it cannot be running here.
            return StopOutcome(method: nil, failures: [], duration: .zero)
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
        let previous = (try? await domain.state())?.description
        if settings.saveConfigOnStop { await saveConfig(domain) }
        var policy = StopPolicy(methods: settings.stopMethods, timeout: deadline - clock.now)
        policy.shutdownModes = settings.shutdownModes
        policy.saveFile = settings.snapshotDirectory.map { "\($0)/\(name).state" }
        do {
            let outcome = try await host.stop(domain, policy: policy)
            if outcome.method != nil {
                var t = Transition(kind: outcome.escalated ? "stop-escalated" : "down", guest: name, uuid: domain.uuid,
                                   reason: "stop: \(outcome.method!)"
                                    + (outcome.escalated ? " after " + outcome.failures.map { "\($0.method) failed: \($0.reason)" }.joined(separator: "; ") : ""),
                                   previousState: previous, configPath: settings.configPath)
                t.newState = (try? await domain.state())?.description
                reporter.report(t)
            }
            return outcome
        } catch {
            return try await lastResort(name, because: "\(error)", deadline: deadline, started: started, failures: [],
                                        uuid: domain.uuid)
        }
    }

    /// Kills the guest's QEMU process directly (libvirtd is not answering or every method failed).
    func lastResort(_ name: String, because reason: String, deadline: ContinuousClock.Instant,
                    started: ContinuousClock.Instant, failures: [(method: StopMethod, reason: String)],
                    quietWhenAbsent: Bool = false, uuid: UUID? = nil) async throws -> StopOutcome {
        let clock = ContinuousClock()
        guard QEMUProcess.find(guest: name) != nil else {
            return StopOutcome(method: nil, failures: failures, duration: clock.now - started)
        }
        logger.warning("killing the guest's QEMU process directly", metadata: ["domain.name": "\(name)",
                                                                             "reason": "\(reason)"])
        if await QEMUProcess.kill(guest: name, timeout: max(.seconds(1), deadline - clock.now)) {
            reporter.report(Transition(kind: "stop-escalated", guest: name, uuid: uuid,
                                       reason: "QEMU process killed: \(reason)", configPath: settings.configPath))
            return StopOutcome(method: .destroy, failures: failures + [(.destroy, reason)],
                               duration: clock.now - started)
        }
        throw AgentError(.failed, "could not stop guest \(name): \(reason); its QEMU process survived SIGKILL")
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
        } catch {
            logger.warning("could not save the definition on stop", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    // MARK: - Monitor

    public enum Health: Sendable, Equatable {
        case running
        case notRunning
        case failed(String)
    }

    /// The guest's health at an OCF check level: 0 = libvirt state, 10 = + guest agent answers,
    /// 20 = + the readiness probe holds. Paused by an I/O error, crashed and pmsuspended are failures.
    public func monitor(depth: Int, timeout: Duration) async -> Health {
        guard let name = (try? definitionFromConfig())??.name ?? domainName else { return .notRunning }
        let host: Hypervisor
        let domain: Domain?
        do {
            host = try await connect(timeout: timeout, keepAlive: false)
            domain = try await host.guestIfDefined(name)
        } catch {
            // libvirtd is down; the guest itself may be fine. Look at its process.
            logger.warning("libvirt unreachable; judging by the QEMU process", metadata: ["error": "\(error)"])
            return QEMUProcess.find(guest: name) != nil ? .running : .notRunning
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
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        guard let name = (try? definitionFromConfig())??.name ?? domainName else {
            throw AgentError(.misconfigured, "no guest to manage: set 'domain' or 'config'")
        }
        let lock = try await GuestLock.acquire(guest: name, directory: settings.lockDirectory,
                                               timeout: budget / 4, purpose: "migrate_to \(target)")
        defer { lock.release() }
        let host = try await connect(timeout: deadline - clock.now)
        let domain = try await host.guest(name)
        let uri = settings.migration.remoteURI(for: target, hypervisor: settings.hypervisor)
        var options = MigrationOptions()
        options.migrateURI = settings.migration.dataURI(for: target)
        if settings.migration.downtimeMilliseconds > 0 { options.maxDowntime = .milliseconds(settings.migration.downtimeMilliseconds) }
        if settings.migration.speedMiBPerSecond > 0 { options.bandwidthMiBPerSecond = UInt64(settings.migration.speedMiBPerSecond) }
        options.timeout = max(.seconds(1), deadline - clock.now - .seconds(2))
        let report = try await host.migrate(domain, to: uri, options: options)
        var t = Transition(kind: "migrated", guest: name, uuid: domain.uuid, reason: "migrated to \(target)",
                           previousState: "running", newState: report.destinationState.description,
                           configPath: settings.configPath)
        t.migrationDowntimeMilliseconds = report.downtimeMilliseconds
        reporter.report(t)
        return report
    }

    /// On the migration target: waits until the guest runs here.
    public func waitForIncoming(budget: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        guard let name = (try? definitionFromConfig())??.name ?? domainName else {
            throw AgentError(.misconfigured, "no guest to manage: set 'domain' or 'config'")
        }
        memory.remember(name)
        let host = try await connect(timeout: budget)
        while true {
            if let d = try await host.guestIfDefined(name), try await d.state().kind == .running { return }
            if clock.now >= deadline {
                throw AgentError(.failed, "guest \(name) did not arrive running within \(budget.formattedSeconds)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// What went wrong, in the categories that OCF exit codes distinguish.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case failed, misconfigured, notInstalled, permission }
    public let kind: Kind
    public let message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
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

    private func write(_ dir: String, _ file: String, _ text: String) {
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
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        guard let name = (try? definitionFromConfig())??.name ?? domainName else {
            throw AgentError(.misconfigured, "no guest to manage: set 'domain' or 'config'")
        }
        let lock = try await GuestLock.acquire(guest: name, directory: settings.lockDirectory,
                                               timeout: budget / 4, purpose: "cold boot")
        defer { lock.release() }
        let host = try await connect(timeout: budget)
        let domain = try await host.guest(name)
        if try await domain.state().isActive {
            throw VMError(.refused, "guest \(name) is running; stop it before a cold boot")
        }
        var kept: String?
        if try await domain.hasManagedSaveImage() {
            let image = "\(settings.managedSaveDirectory)/\(name).save"
            guard FileManager.default.fileExists(atPath: image) else {
                throw AgentError(.failed, "the managed-save image of \(name) is not at \(image); refusing to let "
                                 + "libvirt discard it (set managed_save_dir)")
            }
            kept = try quarantine(image, guest: name, link: true)
        }
        try await libvirt("cold-booting \(name)") { try await domain.start(flags: .forceBoot, timeout: budget) }
        let definition = try? DomainDefinition(xml: await domain.xml(.inactive))
        let ready = try await BootWait.waitUntilReady(domain, probe: settings.readiness.probe(for: definition),
                                                      timeout: max(.zero, deadline - clock.now))
        var t = Transition(kind: "up", guest: name, uuid: domain.uuid,
                           reason: "cold boot by an admin" + (kept.map { "; saved image kept as \($0)" } ?? ""),
                           configPath: settings.configPath)
        t.bootWaitDuration = ready
        reporter.report(t)
        return StartOutcome(how: .booted, readyAfter: ready, duration: clock.now - (deadline - budget),
                            restoreFailure: kept.map { "saved image kept as \($0)" })
    }
}
