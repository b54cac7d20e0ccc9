import FoundationEssentials
import Libvirt

/// Start: define from the XML, refuse a guest that runs on a peer, resume / restore / boot, wait for readiness;
/// and the cold boot an admin chooses past a saved image.
extension GuestController {
    /// Brings the guest up and ready within `budget`: define or redefine from its XML, refuse if it runs
    /// on a peer, resume / restore / boot, then wait for readiness.
    public func start(budget: Duration) async throws -> StartOutcome {
        // Every libvirt call inside has the time truly left in the operation as its deadline.
        try await OperationDeadline.within(budget) { try await bringUpGuest(budget: budget) }
    }

    private func bringUpGuest(budget: Duration) async throws -> StartOutcome {
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        let guest = try requiredGuest(strict: true)
        let (name, definition) = (guest.name, guest.definition)
        guard Self.canBeADomainName(name) else {
            throw VMError(
                .misconfigured,
                "'\(ConfigError.excerpt(name))' cannot be a libvirt domain name (at most "
                    + "200 bytes, no '/' and no line breaks)")
        }
        if let started = await startedGuestStillRunning(insteadOf: name, timeout: min(.seconds(5), budget / 4)) {
            throw VMError(
                .misconfigured,
                "this resource started guest '\(started)', which still runs, but its XML "
                    + "now names '\(name)'; stop the resource before pointing it at another guest")
        }
        if let refused = settings.refused.first { throw VMError(.misconfigured, refused) }
        let lock = try await FileLock.acquire(
            guest: name, directory: settings.lockDirectory,
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
            if effective == nil, let xml = try? await domain.xml(.inactive) {
                effective = try? DomainDefinition(xml: xml)
            }
            let probe = settings.readiness.probe(for: effective)
            let outcome = try await bringUp(domain, on: host, probe: probe, definition: effective, deadline: deadline)
            await syncUtilization(domain, deadline: deadline)
            return outcome
        } catch {
            reporter.report(
                Transition(
                    kind: .startFailed, guest: name, uuid: definition?.uuid,
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
                throw VMError(
                    .notInstalled,
                    "guest \(name) is not defined on \(settings.hypervisor) and no "
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

    func bringUp(
        _ domain: Domain, on host: Hypervisor, probe: ReadinessProbe, definition: DomainDefinition?,
        deadline: ContinuousClock.Instant
    ) async throws -> StartOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let name = domain.name
        let node = await nodeName(host)
        var state = try await libvirt("reading the state of \(name)") { try await domain.state() }
        if !state.isActive { reportInterruptedStop(name, uuid: domain.uuid) }
        // A pause that is a step of some libvirt job (its own start, a save, a migration) ends by itself:
        // wait for it instead of resuming a guest that libvirt is still bringing up.
        while state.kind == .paused, Self.transientPauses.contains(state.reasonName), clock.now < deadline {
            logger.info(
                "waiting for a libvirt job to end",
                metadata: [
                    "domain.name": "\(name)",
                    "state": "\(state.description)",
                ])
            try await Task.sleep(for: .milliseconds(200))
            state = try await libvirt("reading the state of \(name)") { try await domain.state() }
        }
        let serialLog = definition?.serials.first(where: { $0.type == "file" })?.sourcePath
        var context = BootContext(
            coldBoot: true, serialLog: serialLog,
            serialOffset: serialLog.map(SerialFollower.size(of:)) ?? 0)
        let how: StartOutcome.How
        var restoreFailure: String?
        var restoreTime: Duration?
        var restoredImage: SavedImage?
        var bootSlot: Admission.Slot?
        defer { bootSlot?.release() }
        switch state.kind {
        case .running, .blocked, .shuttingDown:
            // Started outside the agent, or by a start that was killed mid-boot: it must be ready like any
            // other start's guest before start may say so.
            let remembered = memory.rememberedGeneration(name)
            let ours = remembered != nil && remembered == savedStateStore(for: name).generation()?.generation
            recordComingUp(domain, node: node, how: "found running")
            let ready = try await BootWait.waitUntilReady(
                domain, probe: probe, timeout: max(.zero, deadline - clock.now),
                context: BootContext(coldBoot: false))
            memory.rememberFailure(name, nil)
            if !ours {
                var t = Transition(
                    kind: .up, guest: name, uuid: domain.uuid,
                    reason: "start: already running (started outside the agent), and ready",
                    previousState: state.description, newState: state.description,
                    configPath: settings.configPath)
                t.bootWaitDuration = ready
                reporter.report(t)
            }
            return StartOutcome(
                how: .alreadyRunning, readyAfter: probe == .none ? nil : ready,
                duration: clock.now - started)
        case .paused where Self.failedPauses.contains(state.reasonName):
            throw VMError(
                .failed,
                "guest \(name) is \(state); resuming it would not help. Fix the cause (its "
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
                // A cold boot holds a boot slot until the guest is ready: boots are what drown a node.
                bootSlot = try await admission(for: name).acquire(.boot, deadline: deadline, logger: logger)
                // Force-boot: libvirt must never restore an image vmmanager did not choose.
                try await libvirt("starting \(name)") {
                    try await domain.start(flags: coldBootFlags, timeout: max(.seconds(1), deadline - clock.now))
                }
                recordComingUp(domain, node: node, how: "booted")
                how = .booted
            }
        }
        let readyAfter = try await BootWait.waitUntilReady(
            domain, probe: probe, timeout: max(.zero, deadline - clock.now),
            context: context)
        bootSlot?.release()
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
        var t = Transition(
            kind: .up, guest: name, uuid: domain.uuid, reason: reason,
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
        logger.info(
            "guest up",
            metadata: [
                "domain.name": "\(name)", "how": "\(how.rawValue)",
                "ready_after": "\(readyAfter.formattedSeconds)",
            ])
        return StartOutcome(
            how: how, readyAfter: probe == .none ? nil : readyAfter, duration: clock.now - started,
            restoreFailure: restoreFailure, clockCorrection: skew)
    }

    /// Pauses that are a step of a libvirt job and end by themselves.
    static let transientPauses: Set<String> = [
        "starting up", "migrating", "saving", "dumping", "shutting down",
        "creating snapshot", "post-copy",
    ]
    /// Pauses that mean the guest is broken: resuming it repeats the fault.
    static let failedPauses: Set<String> = ["ioerror", "watchdog", "crashed", "post-copy failed"]

    /// Boots the guest from scratch past a saved image that an admin decided not to restore. The image
    /// is kept aside in the quarantine directory first (libvirt would delete it), then the guest is
    /// cold-booted and waited for.
    public func coldBoot(budget: Duration) async throws -> StartOutcome {
        try await OperationDeadline.within(budget) { try await coldBootGuest(budget: budget) }
    }

    private func coldBootGuest(budget: Duration) async throws -> StartOutcome {
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        let name = try requiredGuest().name
        let lock = try await FileLock.acquire(
            guest: name, directory: settings.lockDirectory,
            timeout: budget / 4, purpose: "cold boot")
        defer { lock.release() }
        let host = try await connect(timeout: budget)
        let domain = try await host.guest(name)
        if try await domain.state().isActive {
            throw VMError(.refused, "guest \(name) is running; stop it before a cold boot")
        }
        let kept = try await quarantineAll(try await savedImages(of: domain).map(\.image), of: domain)
        let slot = try await admission(for: name).acquire(.boot, deadline: deadline, logger: logger)
        defer { slot.release() }
        try await libvirt("cold-booting \(name)") {
            try await domain.start(flags: coldBootFlags, timeout: max(.seconds(1), deadline - clock.now))
        }
        recordComingUp(domain, node: await nodeName(host), how: "booted by an admin")
        let definition = try? DomainDefinition(xml: await domain.xml(.inactive))
        let ready = try await BootWait.waitUntilReady(
            domain, probe: settings.readiness.probe(for: definition),
            timeout: max(.zero, deadline - clock.now))
        var t = Transition(
            kind: .up, guest: name, uuid: domain.uuid,
            reason: "cold boot by an admin"
                + (kept.isEmpty ? "" : "; saved image kept as " + kept.joined(separator: ", ")),
            configPath: settings.configPath)
        t.bootWaitDuration = ready
        reporter.report(t)
        return StartOutcome(
            how: .booted, readyAfter: ready, duration: clock.now - (deadline - budget),
            restoreFailure: kept.isEmpty ? nil : "saved image kept as " + kept.joined(separator: ", "))
    }
}
