import FoundationEssentials
import Libvirt
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Stop: the stop chain within the budget, the `down` of an interrupted stop, and the last resort (killing the
/// QEMU process) when libvirtd does not answer or every method failed.
extension GuestController {
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
        guard var name = (try? managedGuest())??.name else {
            // Nothing was ever started by this resource on this node: it cannot be running here.
            return StopOutcome(method: nil, failures: [], duration: .zero)
        }
        if !Self.canBeADomainName(name) {
            // libvirt keeps a file named after every domain: no guest with this name can run, so it is stopped.
            logger.error(
                "no guest can have this name; nothing to stop",
                metadata: ["domain.name": "\(ConfigError.excerpt(name))"])
            return StopOutcome(method: nil, failures: [], duration: .zero)
        }
        if let started = await startedGuestStillRunning(insteadOf: name, timeout: min(.seconds(5), budget / 4)) {
            // The resource started `started`, which still runs; its XML now names another guest. Stopping
            // the other one would leave ours running twice: stop the one this resource means.
            logger.error(
                "the XML now names another guest; stopping the one this resource started",
                metadata: ["domain.name": "\(started)", "xml_names": "\(name)"])
            name = started
        }
        let lock = try await FileLock.acquire(
            guest: name, directory: settings.lockDirectory,
            timeout: max(.seconds(1), budget / 3), purpose: "stop")
        defer { lock.release() }
        let host: Hypervisor
        let domain: Domain?
        do {
            host = try await connect(timeout: min(.seconds(10), budget / 3))
            domain = try await host.guestIfDefined(name)
        } catch {
            // libvirtd does not answer: the guest's QEMU process is all we can act on.
            return try await lastResort(
                name, because: "libvirt unreachable: \(error)", deadline: deadline,
                started: started, failures: [])
        }
        guard let domain else {
            return try await lastResort(
                name, because: "guest not defined", deadline: deadline, started: started,
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
        policy.saveSlots = admission(for: name)
        let knownFailure = memory.failure(name)
        if let knownFailure, policy.methods.count > 1, policy.methods.contains(.save) {
            // Saving a guest the monitor judged failed (hung, agent silent) preserves the fault: the next
            // start would restore it still broken. Recovery means a fresh boot.
            policy.methods.removeAll { $0 == .save }
            logger.warning("not saving a failed guest", metadata: ["domain.name": "\(name)", "why": "\(knownFailure)"])
        }
        let store = savedStateStore(for: name)
        if store.kind == .directory && settings.stopMethods.contains(.save) && previousState?.isActive != false {
            // The image is written under a temporary name and committed with its provenance once complete:
            // a node that dies mid-save leaves the previous state intact. A saved-state directory of its own is
            // made on first use, but never the XML's own directory: missing, it means the storage that holds the
            // guest is not mounted, and an image written under the bare mount point would be hidden, then lost,
            // once the storage is mounted again (the save fails and the chain goes on).
            let xmlDirectory = settings.configPath.map { String($0[..<($0.lastIndex(of: "/") ?? $0.endIndex)]) }
            if store.directory != xmlDirectory { try? DurableFile.createDirectory(store.directory) }
            policy.saveFile = store.temporaryImagePath()
        }
        let definition = (try? await domain.xml(.inactive)).flatMap { try? DomainDefinition(xml: $0) }
        do {
            let outcome = try await host.stop(domain, policy: policy)
            var saved: SavedImage?
            var saveProblem: String?
            if outcome.method == .save {
                (saved, saveProblem) = await commitSave(
                    domain, on: host, store: store, temporary: policy.saveFile,
                    definition: definition)
            } else if let temporary = policy.saveFile {
                unlink(temporary)  // what a failed save left
            }
            if let method = outcome.method {
                var reason = "stop: \(method)"
                if let saved { reason += " to \(saved.isManagedSave ? "libvirt's managed-save image" : saved.path)" }
                if outcome.escalated {
                    reason +=
                        " after " + outcome.failures.map { "\($0.method) failed: \($0.reason)" }.joined(separator: "; ")
                }
                if let saveProblem { reason += "; " + saveProblem }
                if let knownFailure, !policy.methods.contains(.save), settings.stopMethods.contains(.save) {
                    reason += "; not saved: the monitor had judged it failed (\(knownFailure))"
                }
                var kind: TransitionKind = outcome.escalated ? .stopEscalated : .down
                if saved?.isConflictCopy == true { kind = .savedStateConflict }
                var t = Transition(
                    kind: kind, guest: name, uuid: domain.uuid, reason: reason, previousState: previous,
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
            return try await lastResort(
                name, because: "\(error)", deadline: deadline, started: started, failures: [],
                uuid: domain.uuid, domain: domain)
        }
    }

    /// Reports the `down` of a stop that was killed after it acted but before it reported: the guest is
    /// down now, and its transition must not be lost.
    func reportInterruptedStop(_ name: String, uuid: UUID?) {
        guard let previous = memory.stopIntent(name) else { return }
        reporter.report(
            Transition(
                kind: .down, guest: name, uuid: uuid,
                reason: "stop: an earlier stop was interrupted (its process was killed) after it "
                    + "had begun; the guest is down", previousState: previous,
                configPath: settings.configPath))
        memory.clearStopIntent(name)
        memory.forgetGeneration(name)
    }

    /// Kills the guest's process (QEMU, or a container's controller and init) directly (libvirtd is not
    /// answering or every method failed).
    func lastResort(
        _ name: String, because reason: String, deadline: ContinuousClock.Instant,
        started: ContinuousClock.Instant, failures: [(method: StopMethod, reason: String)],
        quietWhenAbsent: Bool = false, uuid: UUID? = nil, domain: Domain? = nil
    ) async throws -> StopOutcome {
        let clock = ContinuousClock()
        let process = guestProcess(name, uuid: uuid)
        guard process.find() != nil else {
            return StopOutcome(method: nil, failures: failures, duration: clock.now - started)
        }
        logger.warning(
            process.kind == .container
                ? "killing the container's controller and init directly" : "killing the guest's QEMU process directly",
            metadata: [
                "domain.name": "\(name)",
                "reason": "\(reason)",
            ])
        if await process.kill(timeout: max(.seconds(1), deadline - clock.now)) {
            reporter.report(
                Transition(
                    kind: .stopEscalated, guest: name, uuid: uuid,
                    reason: "\(process.kind == .container ? "container" : "QEMU") process killed: \(reason)",
                    configPath: settings.configPath))
            if let domain { await awaitInactive(domain, until: deadline) }
            return StopOutcome(
                method: .destroy, failures: failures + [(.destroy, reason)],
                duration: clock.now - started)
        }
        throw VMError(.failed, "could not stop guest \(name): \(reason); its QEMU process survived SIGKILL")
    }

    /// Waits, within the stop's budget, until libvirtd too sees the killed guest stopped. libvirtd may
    /// still be inside its own destroy (SIGTERM, then SIGKILL after 10 s) when our kill ends the process;
    /// a stop that returned before libvirtd's cleanup would let the next start find the guest "running",
    /// wait for its readiness, and then see it shut off under it.
    private func awaitInactive(_ domain: Domain, until deadline: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        while clock.now < deadline {
            guard let state = try? await domain.state(), state.isActive else { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
        logger.warning(
            "libvirtd still reports the killed guest active", metadata: ["domain.name": "\(domain.name)"])
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
}
