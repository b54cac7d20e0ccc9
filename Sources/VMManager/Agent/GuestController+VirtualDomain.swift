import FoundationEssentials
import Libvirt
import Logging

/// The VirtualDomain parameters that reach outside the guest: the host's networks and pools
/// (`start_resources`), the other nodes' copy of the XML (`sync_config_on_stop`), and the resource's
/// utilization in Pacemaker's CIB (`autoset_utilization_*`, `unset_utilization_*`).
extension GuestController {
    /// What validate-all must report beyond a configuration that parses: VirtualDomain parameters set but
    /// not supported (OCF_ERR_CONFIGURED), and programs the settings need that are missing (OCF_ERR_INSTALLED).
    public func validationProblems() -> [VMError] {
        var problems = settings.refused.map { VMError(.misconfigured, $0) }
        for script in settings.monitorScripts.unusable {
            problems.append(
                VMError(
                    .notInstalled,
                    "monitor_scripts: '\(ConfigError.excerpt(script))' is missing or "
                        + "not executable"))
        }
        if settings.syncConfigOnStop, ExternalCommand.resolve("csync2") == nil {
            problems.append(
                VMError(
                    .notInstalled,
                    "sync_config_on_stop is set but csync2 is not installed "
                        + "(install csync2, or keep the XML on shared storage and unset it)"))
        }
        return problems
    }

    // MARK: - start_resources

    /// The libvirt networks and storage pools the guest's XML uses.
    static func hostResources(of definition: DomainDefinition) -> [HostResource] {
        var out: [HostResource] = []
        for i in definition.interfaces where i.type == "network" {
            if let n = i.sourceNetwork, !out.contains(.network(n)) { out.append(.network(n)) }
        }
        for d in definition.disks where d.type == "volume" {
            if let pool = d.source?.split(separator: "/").first.map(String.init), !out.contains(.storagePool(pool)) {
                out.append(.storagePool(pool))
            }
        }
        return out
    }

    /// Starts the inactive networks and pools the guest needs (`start_resources`).
    /// - Throws: ``VMError`` `.notInstalled` when one is not defined on this host, `.failed` when it will not start.
    func startHostResources(for definition: DomainDefinition?, on host: Hypervisor) async throws {
        guard settings.startResources, let definition else { return }
        for resource in Self.hostResources(of: definition) {
            let active: Bool?
            do { active = try await host.connection.isActive(resource) } catch {
                throw VMError(.failed, "start_resources: cannot ask libvirt about \(resource): \(error.message)")
            }
            switch active {
            case nil:
                throw VMError(
                    .notInstalled,
                    "start_resources: \(definition.name) needs \(resource), which is not "
                        + "defined on this node (define it with virsh net-define / pool-define)")
            case true?:
                continue
            case false?:
                do { try await host.connection.start(resource) } catch {
                    throw VMError(.failed, "start_resources: starting \(resource) failed: \(error.message)")
                }
                logger.info("started \(resource) for the guest", metadata: ["domain.name": "\(definition.name)"])
            }
        }
    }

    // MARK: - sync_config_on_stop

    /// `csync2 -x <config>` after the XML was written back, as VirtualDomain does; a failure is logged.
    func syncConfig(_ path: String, timeout: Duration) async {
        guard settings.syncConfigOnStop else { return }
        guard let csync2 = ExternalCommand.resolve("csync2") else {
            logger.warning(
                "sync_config_on_stop: csync2 is not installed; the XML was not synced", metadata: ["path": "\(path)"])
            return
        }
        do {
            let outcome = try await ExternalCommand(csync2, ["-x", path]).run(timeout: timeout)
            if outcome.succeeded {
                logger.info("synced the guest's XML with csync2", metadata: ["path": "\(path)"])
            } else {
                logger.warning(
                    "csync2 -x failed",
                    metadata: [
                        "path": "\(path)", "output": "\(MonitorScripts.oneLine(outcome.output))",
                        "timed_out": "\(outcome.timedOut)",
                    ])
            }
        } catch {
            logger.warning("csync2 could not be started", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Utilization

    /// Keeps the resource's utilization attributes in Pacemaker's CIB at the guest's vCPUs and memory
    /// (VirtualDomain's `autoset_utilization_*`, `unset_utilization_*`). The CIB is asked and written only when
    /// the wanted values differ from what this node last wrote (remembered under `state_dir`): a monitor of an
    /// unchanged guest runs no program at all, where VirtualDomain runs `virsh dominfo` and `crm_resource` for
    /// each attribute at every monitor.
    func syncUtilization(_ domain: Domain, deadline: ContinuousClock.Instant) async {
        guard let resource = pacemakerResource, !settings.utilization.isEmpty else { return }
        guard let info = try? await domain.info() else { return }
        var wanted: [String: String] = [:]
        for (attribute, set) in settings.utilization {
            let value = attribute == "cpu" ? "\(info.virtualCPUs)" : "\(info.maxMemoryKiB / 1024)"
            wanted[attribute] = set ? value : "-"
        }
        if memory.utilization == wanted { return }
        guard let crmResource = ExternalCommand.resolve("crm_resource") else { return }
        let clock = ContinuousClock()
        func run(_ arguments: [String]) async -> ExternalCommand.Outcome? {
            let left = deadline - clock.now
            guard left > .milliseconds(200) else { return nil }
            return try? await ExternalCommand(crmResource, arguments).run(timeout: min(.seconds(10), left))
        }
        var written = memory.utilization ?? [:]
        for (attribute, value) in wanted.sorted(by: { $0.key < $1.key }) where written[attribute] != value {
            guard let current = await run(["-Q", "-r", resource, "-z", "-g", attribute]) else { return }
            let now = current.succeeded ? current.output.trimmed : nil
            if value == "-" {
                if now != nil {
                    guard let outcome = await run(["-r", resource, "-z", "-d", attribute]), outcome.succeeded else {
                        logger.warning(
                            "could not delete the utilization attribute", metadata: ["attribute": "\(attribute)"])
                        return
                    }
                }
            } else if now != value {
                if current.output.contains("not connected") { return }  // no CIB (yet): try at the next monitor
                guard let outcome = await run(["-r", resource, "-z", "-p", attribute, "-v", value]), outcome.succeeded
                else {
                    logger.warning(
                        "could not set the utilization attribute",
                        metadata: ["attribute": "\(attribute)", "value": "\(value)"])
                    return
                }
                logger.info("utilization set", metadata: ["attribute": "\(attribute)", "value": "\(value)"])
            }
            written[attribute] = value
            memory.rememberUtilization(written)
        }
    }
}

extension ResourceMemory {
    /// The utilization attributes this node last wrote for the resource ("-": deleted).
    var utilization: [String: String]? {
        guard let instance, let text = readFile("\(directory)/utilization/\(instance)") else { return nil }
        var out: [String: String] = [:]
        for pair in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
        }
        return out
    }

    func rememberUtilization(_ values: [String: String]) {
        guard let instance else { return }
        write(
            "\(directory)/utilization", instance,
            values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }
}
