import FoundationEssentials
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// What the node's `vmctl watch` does when a guest the cluster manages here fails outside any cluster
/// action (it crashed, or its QEMU died): the guest's `failure_response`.
///
/// Under Pacemaker the failure would otherwise wait for the next monitor (up to its interval); the watcher
/// sees libvirt's event at once and tells Pacemaker, which recovers the guest by its own rules (fail counts,
/// migration-threshold, placement): vmmanager never starts a Pacemaker-managed guest itself. Heartbeat v1
/// monitors nothing at all; there the watcher does what the CVserver pairs asked for a single failed guest:
/// start it again on its own host a few times, then give its group to the peer.
public struct FailureResponse: Sendable {
    public enum Policy: Sendable, Hashable {
        /// Notify only (the default).
        case none
        /// `crm_resource --fail` for the guest's resource on this node.
        case pacemaker
        /// Restart here up to `localRestarts` times within `window`, then run `handoverCommand` (nil: hb_standby).
        case restart(localRestarts: Int, window: Duration, handoverCommand: String?)
    }

    /// vmmanager.conf, as the agent reads it.
    public let configPath: String
    /// libvirt URI of this node.
    public let hypervisor: String
    public let reporter: any TransitionReporter
    public let logger: Logger
    /// heartbeat's haresources (for the hand-over's `local` or `foreign`).
    public var haresources = "/etc/ha.d/haresources"
    /// Where commands are looked for; tests point it at their own `crm_resource`.
    public var searchPath: String? = nil

    public init(configPath: String, hypervisor: String, reporter: any TransitionReporter, logger: Logger) {
        self.configPath = configPath
        self.hypervisor = hypervisor
        self.reporter = reporter
        self.logger = logger
    }

    /// What was done about one failure.
    public enum Outcome: Sendable, Equatable {
        /// No response configured, or the guest is not a cluster resource on this node.
        case nothing(String)
        case toldPacemaker(resource: String, node: String)
        case restarted(count: Int)
        case handedOver(command: String)
        case failed(String)
    }

    /// Responds to the failure of `guest` (already notified as a crash by the watcher).
    public func respond(to guest: String, uuid: UUID?, reason: String) async -> Outcome {
        var parameters = ["domain": guest, "hypervisor": hypervisor]
        if access(configPath, R_OK) == 0 { parameters["conf_file"] = configPath }
        guard let settings = try? GuestSettings.resolve(parameters: parameters, lenient: true) else {
            return .nothing("the settings of \(guest) cannot be read")
        }
        if settings.failureResponse == .none { return .nothing("failure_response is none") }
        guard let instance = Self.resourceInstance(of: guest, stateDirectory: settings.stateDirectory) else {
            return .nothing("no cluster resource started \(guest) on this node")
        }
        switch settings.failureResponse {
        case .none:
            return .nothing("failure_response is none")
        case .pacemaker:
            return await tellPacemaker(guest, uuid: uuid, resource: instance, reason: reason)
        case .restart(let allowed, let window, let command):
            return await restartOrHandOver(
                guest, uuid: uuid, instance: instance, settings: settings, allowed: allowed,
                window: window, command: command, reason: reason)
        }
    }

    // MARK: - Pacemaker

    private func tellPacemaker(_ guest: String, uuid: UUID?, resource: String, reason: String) async -> Outcome {
        do {
            let node = try await run("crm_node", ["-n"], timeout: .seconds(5)).trimmed
            _ = try await run(
                "crm_resource", ["--fail", "--resource", resource, "--node", node], timeout: .seconds(10))
            report(
                .recoveryRequested, guest, uuid,
                "\(reason); Pacemaker was told at once (crm_resource --fail "
                    + "--resource \(resource) --node \(node)) and recovers it by its own rules",
                details: ["resource": resource, "node": node])
            return .toldPacemaker(resource: resource, node: node)
        } catch {
            let why = "\(error)"
            logger.error(
                "cannot tell Pacemaker about the failed guest; its next monitor will find it",
                metadata: ["domain.name": "\(guest)", "error": "\(why)"])
            return .failed(why)
        }
    }

    // MARK: - heartbeat v1

    private func restartOrHandOver(
        _ guest: String, uuid: UUID?, instance: String, settings: GuestSettings, allowed: Int,
        window: Duration, command: String?, reason: String
    ) async -> Outcome {
        let history = RestartHistory(directory: settings.stateDirectory, guest: guest)
        let recent = history.recent(within: window)
        if recent < allowed {
            history.record()
            let count = recent + 1
            do {
                try await restart(guest, instance: instance, settings: settings)
                report(
                    .restartedLocally, guest, uuid,
                    "\(reason); started again on this node (restart \(count) of "
                        + "\(allowed) within \(window.formattedSeconds))", details: ["restart": "\(count)"])
                return .restarted(count: count)
            } catch {
                logger.error(
                    "the local restart failed; handing the guest's group to the peer",
                    metadata: ["domain.name": "\(guest)", "error": "\(error)"])
            }
        }
        return await handOver(
            guest, uuid: uuid, instance: instance, command: command,
            why: recent >= allowed
                ? "it failed \(recent + 1) times within \(window.formattedSeconds)"
                    + " (local_restarts = \(allowed))" : "its local restart failed")
    }

    /// Starts the guest as heartbeat's agent would: the same settings, the same resource memory.
    private func restart(_ guest: String, instance: String, settings: GuestSettings) async throws {
        let memory = ResourceMemory(directory: settings.stateDirectory, instance: instance)
        var parameters = ["hypervisor": hypervisor]
        if access(configPath, R_OK) == 0 { parameters["conf_file"] = configPath }
        let resolved: GuestSettings
        do throws(ConfigError) {
            resolved = try GuestSettings.resolve(parameters: parameters, guest: memory.rememberedConfig(guest) ?? guest)
        } catch { throw VMError(error) }
        let controller = GuestController(
            settings: resolved, reporter: reporter, logger: logger,
            resourceInstance: instance)
        _ = try await controller.start(budget: resolved.startTimeout)
    }

    private func handOver(
        _ guest: String, uuid: UUID?, instance: String, command: String?, why: String
    ) async -> Outcome {
        let argv: [String]
        if let command {
            argv = ["/bin/sh", "-c", command]
        } else {
            let local = Self.isPreferredNode(instance: instance, haresources: haresources, node: Self.nodeName)
            argv = [Self.hbStandby, local ? "local" : "foreign"]
        }
        let shown = command ?? argv.joined(separator: " ")
        do {
            _ = try await run(argv[0], Array(argv.dropFirst()), timeout: .seconds(30))
            report(
                .handedToPeer, guest, uuid, "\(why): its group was handed to the peer (\(shown))",
                details: ["command": shown])
            return .handedOver(command: shown)
        } catch {
            logger.error(
                "cannot hand the failed guest's group to the peer",
                metadata: ["domain.name": "\(guest)", "command": "\(shown)", "error": "\(error)"])
            report(
                .handedToPeer, guest, uuid, "\(why), but handing its group to the peer failed (\(shown)): \(error)",
                details: ["command": shown, "error": "\(error)"])
            return .failed("\(error)")
        }
    }

    /// heartbeat's hb_standby, where Debian's heartbeat package puts it.
    static let hbStandby = "/usr/share/heartbeat/hb_standby"

    /// heartbeat's node name: the host name up to its first dot.
    static var nodeName: String { String(TransitionEvent.localNode.split(separator: ".").first ?? "") }

    /// Whether `node` is the preferred node of the haresources line holding the resource `instance` (the agent's
    /// `hb-<argument>`): a line is `node resource resource ...`, a resource `vmmanager::ARG[::key=value...]`.
    static func isPreferredNode(instance: String, haresources: String, node: String) -> Bool {
        guard let text = readFile(haresources) else { return true }
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            for word in words.dropFirst() {
                let parts = word.components(separatedBy: "::")
                guard parts.count >= 2, parts[0] == "vmmanager" else { continue }
                if GuestController.heartbeatInstance(parts[1]) == instance { return first == node }
            }
        }
        return true
    }

    // MARK: - Helpers

    /// The resource (OCF_RESOURCE_INSTANCE, or heartbeat's `hb-<argument>`) that started `guest` on this node.
    static func resourceInstance(of guest: String, stateDirectory: String) -> String? {
        let directory = "\(stateDirectory)/resources"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.sorted().first { readFile("\(directory)/\($0)")?.trimmed == guest }
    }

    private func run(_ name: String, _ arguments: [String], timeout: Duration) async throws -> String {
        let path: String?
        if let searchPath, !name.contains("/") {
            path = searchPath.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
        } else {
            path = ExternalCommand.resolve(name)
        }
        guard let path else { throw VMError(.notInstalled, "\(name) is not installed on this node") }
        let outcome = try await ExternalCommand(path, arguments).run(timeout: timeout)
        guard outcome.succeeded else {
            throw VMError(
                .failed,
                "\(([name] + arguments).joined(separator: " ")) "
                    + (outcome.timedOut
                        ? "did not finish within \(timeout.formattedSeconds)"
                        : "exited with \(outcome.status.map(String.init) ?? "a signal")")
                    + (outcome.output.isEmpty ? "" : ": \(outcome.output.trimmed)"))
        }
        return outcome.output
    }

    private func report(
        _ kind: TransitionKind, _ guest: String, _ uuid: UUID?, _ reason: String,
        details: [String: String]
    ) {
        var t = Transition(kind: kind, guest: guest, uuid: uuid, reason: reason)
        t.details = details
        reporter.report(t)
        logger.info("failure response", metadata: ["domain.name": "\(guest)", "transition": "\(kind)"])
    }
}

/// When the watcher restarted a guest, under `state_dir/restarts/<guest>`: one time per line.
struct RestartHistory {
    let path: String

    init(directory: String, guest: String) {
        path = "\(directory)/restarts/\(String(guest.map { $0 == "/" ? "_" : $0 }))"
    }

    func recent(within window: Duration) -> Int {
        let now = Date().timeIntervalSince1970
        return times().filter { now - $0 < window.inSeconds }.count
    }

    func record() {
        let now = Date().timeIntervalSince1970
        let kept = times().filter { now - $0 < 86_400 } + [now]
        let text = kept.map { "\($0)" }.joined(separator: "\n") + "\n"
        try? DurableFile.createDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]), mode: 0o755)
        try? DurableFile.write(Data(text.utf8), to: path)
    }

    private func times() -> [Double] {
        (readFile(path) ?? "").split(separator: "\n").compactMap { Double($0) }
    }
}
