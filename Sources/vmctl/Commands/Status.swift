import ArgumentParser
import Foundation
import Libvirt
import VMManager

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Everything about one guest that matters during an incident.",
        discussion: """
            Shows the guest's state and its reason, its own uptime (through the guest agent), whether it is ready now \
            by its readiness policy (one probe, at most about 2 s), its managed-save image (size, when it was written, \
            on which node), its identity, its domain XML file, and its last transitions.

            The readiness policy and the XML file come from vmmanager's settings for the guest, resolved as the \
            resource agent resolves them: defaults, [global], then [guest NAME] of --config. A console-line (serial:) \
            or timer (uptime:) policy is judged only while a start waits, so status says so instead of guessing.

            Exits 0 when the guest runs (running, paused, in shutdown: it has a QEMU process), 7 when it is defined \
            but not running (like an OCF monitor), 2 when there is no such guest.

            Examples:
              vmctl status web1
              vmctl status web1 --json
              vmctl status web1 --config /etc/vmmanager/vmmanager.conf
              vmctl status web1 >/dev/null; echo $?     # 0 running, 7 not running, 2 unknown
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Argument(help: "Guest name or UUID.", completion: guestNameCompletion) var guest: String
    @Flag(help: "Print a JSON object instead of text (keys in docs/vmctl.md).") var json = false

    func run() async throws {
        var running = false
        try await guarded {
            let host = try await connection.connect()
            let d = try await host.guest(guest)
            let controller = try agent.controller(for: d.name, connection: connection)
            let report = try await Self.report(for: d, on: host, controller: controller, settingsPath: agent.config)
            running = report.running
            if json {
                try Output.json(report)
            } else {
                say(report.text)
            }
        }
        if !running { throw ExitCode(7) }
    }

    static func report(
        for d: Domain, on host: Hypervisor, controller: GuestController, settingsPath: String
    )
        async throws -> Report
    {
        let settings = controller.settings
        let state = try await d.state()
        let persistent = try await d.isPersistent()
        let hasImage = persistent ? try await d.hasManagedSaveImage() : false
        let node = try await host.connection.hostname()
        let definition = try? DomainDefinition(xml: try await d.xml(.inactive))

        var agent: Bool?
        var uptime: Duration?
        if state.kind == .running {
            agent = await ReadinessNow.probe(d, .guestAgent, timeout: .seconds(1)) == .ready
            if agent == true { uptime = await GuestUptime.readIfQuick(d, within: .seconds(3)) }
        }

        // Readiness: the policy, and one probe now.
        let probe = settings.readiness.probe(for: definition)
        let now: ReadinessNow =
            state.kind == .running
            ? await ReadinessNow.probe(d, probe, timeout: .seconds(2))
            : .notReady("it is \(state)")
        let (ready, detail): (Bool?, String?)
        switch now {
        case .ready: (ready, detail) = (true, nil)
        case .notReady(let why): (ready, detail) = (false, why)
        case .notJudged(let why): (ready, detail) = (nil, why)
        }
        let readiness = Report.Readiness(
            policy: settings.readiness.description, probe: probe.description,
            source: settings.values["readiness"]?.source.description ?? "default", ready: ready, detail: detail)

        // Every saved image this node can see, judged by the rule the next start applies.
        let images: [SavedImageReport]
        do { images = try await controller.savedImages(of: d).map(SavedImageReport.init) } catch {
            images = [SavedImageReport(error: "\(error)")]
        }

        let transitions = TransitionHistory.recent(guest: d.name, settings: settings, limit: 5).map {
            Report.Change(
                time: $0.time, kind: $0.transition.kind, reason: $0.transition.reason,
                previousState: $0.transition.previousState, newState: $0.transition.newState)
        }
        var report = Report(
            name: d.name, uuid: d.uuid.lowercasedString, state: "\(state.kind)", reason: state.reasonName,
            running: state.isActive, persistent: persistent,
            uptimeSeconds: uptime.map { ($0.inSeconds * 10).rounded() / 10 }, guestAgent: agent,
            identity: definition.map { IdentityPinning($0).rawValue } ?? "unknown", readiness: readiness,
            managedSave: hasImage, savedState: controller.savedStateStore(for: d.name).location,
            savedImages: images, config: settings.configPath,
            settingsFile: settingsPath, node: node, lastTransitions: transitions)
        report.kind = state.kind
        report.settingsFileExists = FileManager.default.fileExists(atPath: settingsPath)
        return report
    }

    /// `status --json`; the keys are documented in docs/vmctl.md and kept stable. Unknown values are null,
    /// never left out.
    struct Report: Encodable {
        struct Readiness: Encodable {
            let policy: String
            let probe: String
            let source: String
            let ready: Bool?
            let detail: String?

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: Key.self)
                try c.encode(policy, forKey: "policy")
                try c.encode(probe, forKey: "probe")
                try c.encode(source, forKey: "source")
                try c.encode(ready, forKey: "ready")
                try c.encode(detail, forKey: "detail")
            }
        }

        struct Change: Encodable {
            let time: Date
            let kind: TransitionKind
            let reason: String
            let previousState: String?
            let newState: String?

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: Key.self)
                try c.encode(time, forKey: "time")
                try c.encode(kind, forKey: "kind")
                try c.encode(reason, forKey: "reason")
                try c.encode(previousState, forKey: "previousState")
                try c.encode(newState, forKey: "newState")
            }
        }

        let name: String
        let uuid: String
        let state: String
        let reason: String
        let running: Bool
        let persistent: Bool
        let uptimeSeconds: Double?
        let guestAgent: Bool?
        let identity: String
        let readiness: Readiness
        let managedSave: Bool
        let savedState: String
        let savedImages: [SavedImageReport]
        let config: String?
        let settingsFile: String
        let node: String
        let lastTransitions: [Change]
        var kind: DomainState.Kind = .noState
        var settingsFileExists = false

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(name, forKey: "name")
            try c.encode(uuid, forKey: "uuid")
            try c.encode(state, forKey: "state")
            try c.encode(reason, forKey: "reason")
            try c.encode(running, forKey: "running")
            try c.encode(persistent, forKey: "persistent")
            try c.encode(uptimeSeconds, forKey: "uptimeSeconds")
            try c.encode(guestAgent, forKey: "guestAgent")
            try c.encode(identity, forKey: "identity")
            try c.encode(readiness, forKey: "readiness")
            try c.encode(managedSave, forKey: "managedSave")
            try c.encode(savedState, forKey: "savedState")
            try c.encode(savedImages, forKey: "savedImages")
            try c.encode(config, forKey: "config")
            try c.encode(settingsFile, forKey: "settingsFile")
            try c.encode(node, forKey: "node")
            try c.encode(lastTransitions, forKey: "lastTransitions")
        }

        var text: String {
            var lines: [(String, String)] = []
            lines.append(("name", name))
            lines.append(("uuid", uuid))
            lines.append(("state", Paint.forState(kind).apply("\(state) (\(reason))")))
            lines.append(("guest uptime", uptimeSeconds.map(formatAge) ?? "-"))
            lines.append(("guest agent", guestAgent.map { $0 ? "answers" : "does not answer" } ?? "-"))
            var ready: String
            switch readiness.ready {
            case true?: ready = Paint.green.apply("ready now")
            case false?: ready = Paint.yellow.apply("not ready") + ": \(readiness.detail ?? "")"
            case nil: ready = "not judged: \(readiness.detail ?? "")"
            }
            let policy =
                readiness.policy == readiness.probe
                ? readiness.policy
                : "\(readiness.policy) → \(readiness.probe)"
            lines.append(("readiness", "\(policy) (\(readiness.source)); \(ready)"))
            lines.append(("saved state", savedState))
            if savedImages.isEmpty { lines.append(("saved image", "none: the next start boots the guest")) }
            for (i, image) in savedImages.enumerated() {
                lines.append((i == 0 ? "saved image" : "", image.text))
            }
            lines.append(("identity", identity))
            lines.append(("persistent", persistent ? "yes" : "no (transient)"))
            lines.append(("config", config ?? "- (no domain XML configured)"))
            lines.append(("settings", settingsFile + (settingsFileExists ? "" : " (not present: defaults)")))
            lines.append(("node", node))
            if lastTransitions.isEmpty {
                lines.append(("last transitions", "none recorded"))
            } else {
                for (i, t) in lastTransitions.enumerated() {
                    lines.append(
                        (
                            i == 0 ? "last transitions" : "",
                            "\(Output.timestamp(t.time))  \(t.kind)  \(t.reason)"
                        ))
                }
            }
            let width = lines.map(\.0.count).max()! + 2
            return lines.map { label, value in
                (label.isEmpty ? "" : label + ":").padding(toLength: width, withPad: " ", startingAt: 0) + value
            }.joined(separator: "\n")
        }
    }
}

/// A coding key made from any string, for hand-written `encode(to:)` that must emit nulls.
struct Key: CodingKey, ExpressibleByStringLiteral {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
    init(stringLiteral value: String) { stringValue = value }
}
