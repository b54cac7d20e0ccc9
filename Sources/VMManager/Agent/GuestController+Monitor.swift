import Libvirt

/// Monitor: the guest's health at an OCF check level.
extension GuestController {
    public enum Health: Sendable, Equatable {
        case running
        case notRunning
        case failed(String)
        /// The resource's settings contradict what runs (OCF_ERR_CONFIGURED).
        case misconfigured(String)
    }

    /// The guest's health at an OCF check level: 0 = libvirt state, 10 = + guest agent answers,
    /// 20 = + the readiness probe holds. Paused by an I/O error, crashed and pmsuspended are failures.
    public func monitor(depth: Int, timeout: Duration) async -> Health {
        await OperationDeadline.within(timeout) { await monitorGuest(depth: depth, timeout: timeout) }
    }

    private func monitorGuest(depth: Int, timeout: Duration) async -> Health {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        guard let guest = (try? managedGuest()) ?? nil else { return .notRunning }
        let name = guest.name
        guard Self.canBeADomainName(name) else { return .notRunning }
        if let started = await startedGuestStillRunning(insteadOf: name, timeout: min(.seconds(5), timeout / 2)) {
            return .misconfigured(
                "this resource started guest '\(started)', which still runs, but its XML "
                    + "(\(settings.configPath ?? "-")) now names '\(name)'. Put the XML back, or stop the "
                    + "resource (its stop stops '\(started)') before changing it")
        }
        var health = await judge(name, definition: guest.definition, depth: depth, timeout: timeout)
        if health == .running, !settings.monitorScripts.paths.isEmpty,
            let why = await settings.monitorScripts.firstFailure(
                guest: name, timeout: deadline - clock.now - .milliseconds(500))
        {
            health = .failed(why)
        }
        switch health {
        case .running: memory.rememberFailure(name, nil)
        case .failed(let why): memory.rememberFailure(name, why)
        case .notRunning, .misconfigured: break
        }
        return health
    }

    private func judge(
        _ name: String, definition fromConfig: DomainDefinition?, depth: Int, timeout: Duration
    ) async -> Health {
        let host: Hypervisor
        let domain: Domain?
        do {
            host = try await connect(timeout: timeout, keepAlive: false)
            domain = try await host.guestIfDefined(name)
        } catch {
            // libvirtd is down; the guest itself may be fine. Look at its process.
            logger.warning("libvirt unreachable; judging by the guest's process", metadata: ["error": "\(error)"])
            return guestProcess(name, uuid: nil).find() != nil ? .running : .notRunning
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
            var definition = fromConfig
            if definition == nil, let xml = try? await domain.xml(.inactive) {
                definition = try? DomainDefinition(xml: xml)
            }
            let probe = settings.readiness.probe(for: definition)
            do {
                try await BootWait.waitUntilReady(
                    domain, probe: probe, timeout: .seconds(5),
                    context: BootContext(coldBoot: false))
            } catch { return .failed("\(error)") }
        }
        return .running
    }
}
