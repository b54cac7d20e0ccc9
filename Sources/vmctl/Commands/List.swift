import ArgumentParser
import Foundation
import Libvirt
import VMManager

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List guests: state, uptime, saved image, identity, node.",
        discussion: """
            Shows running guests; --all adds the defined guests that are not running.

            UPTIME is the guest's own uptime, asked through its QEMU guest agent (at most 1 s per guest, all guests at \
            once); "-" when the guest is not running or its agent does not answer in time. It continues across a \
            managed save and restore or a live migration, so it tells a resumed guest from a rebooted one.

            SAVED tells what the guest's saved image (in its saved-state directory, by default beside its domain XML, \
            or libvirt's managed save) means for its next start: "current" (it resumes from it), "stale" (the image is \
            not the guest's latest state: the start puts it in quarantine and boots), "conflict" (several images after \
            a split brain: start refuses until `vmctl saved` chooses), "-" (none). `vmctl saved GUEST` says where, \
            from which node, how old, and why.

            IDENTITY is "derived" when the guest's UUID is the one vmmanager derives from its name and every MAC the \
            one it derives from that UUID, so every node computes the same identity without being told; "explicit" \
            when the UUID or a MAC is another value: written by an admin, or chosen at random by libvirt when the \
            guest was defined without --pin-identity (`vmctl check` tells which, by comparing with the XML file and \
            the peers).

            NODE is the host name of the libvirt host asked. State colours (green running, yellow paused or in \
            between, red shut off or crashed) appear on a terminal only; NO_COLOR turns them off.

            Examples:
              vmctl list
              vmctl list --all
              vmctl --connect test:///default list --all --json
              vmctl list --all --json | jq -r '.[] | select(.savedImage == "current") | .name'
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Flag(help: "Include the defined guests that are not running.") var all = false
    @Flag(help: "Print a JSON array of objects instead of a table (keys in docs/vmctl.md).") var json = false

    /// One guest; the JSON keys are documented in docs/vmctl.md and kept stable.
    struct Row: Encodable {
        let name: String
        let uuid: String
        let state: String
        let reason: String
        let persistent: Bool
        let uptimeSeconds: Double?
        let managedSave: Bool
        let savedImage: String?
        let identity: String
        let node: String
        var kind: DomainState.Kind = .noState

        enum CodingKeys: String, CodingKey {
            case name, uuid, state, reason, persistent, uptimeSeconds, managedSave, savedImage, identity, node
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(uuid, forKey: .uuid)
            try c.encode(state, forKey: .state)
            try c.encode(reason, forKey: .reason)
            try c.encode(persistent, forKey: .persistent)
            try c.encode(uptimeSeconds, forKey: .uptimeSeconds)  // null when unknown, never left out
            try c.encode(managedSave, forKey: .managedSave)
            try c.encode(savedImage, forKey: .savedImage)
            try c.encode(identity, forKey: .identity)
            try c.encode(node, forKey: .node)
        }
    }

    func run() async throws {
        try await guarded {
            // The guest agent (uptime) needs a read-write connection; a user allowed only read-only access
            // still gets the list, without uptimes.
            let host: Hypervisor
            do { host = try await connection.connect() } catch let error as VMError where error.code == .unreachable {
                guard let readOnly = try? await connection.connect(readOnly: true) else { throw error }
                host = readOnly
            }
            let node = try await host.connection.hostname()
            let domains = try await host.connection.domains(all ? [] : .active).sorted { $0.name < $1.name }
            let rows = try await withThrowingTaskGroup(of: (Int, Row).self) { group in
                for (index, d) in domains.enumerated() {
                    let controller = try? agent.controller(for: d.name, connection: connection)
                    group.addTask { (index, try await Self.row(for: d, node: node, controller: controller)) }
                }
                var rows = [Row?](repeating: nil, count: domains.count)
                for try await (index, row) in group { rows[index] = row }
                return rows.compactMap { $0 }
            }
            if json {
                try Output.json(rows)
                return
            }
            let header: [(text: String, paint: Paint?)] = ["NAME", "STATE", "UPTIME", "SAVED", "IDENTITY", "NODE"]
                .map { ($0, nil) }
            let body = rows.map { row -> [(text: String, paint: Paint?)] in
                [
                    (row.name, nil), ("\(row.state) (\(row.reason))", Paint.forState(row.kind)),
                    (row.uptimeSeconds.map(formatAge) ?? "-", nil), (row.savedImage ?? "-", nil),
                    (row.identity, nil), (row.node, nil),
                ]
            }
            say(formatTable([header] + body))
        }
    }

    static func row(for d: Domain, node: String, controller: GuestController?) async throws -> Row {
        let state = try await d.state()
        let persistent = try await d.isPersistent()
        let image = persistent ? try await d.hasManagedSaveImage() : false
        let identity = (try? DomainDefinition(xml: try await d.xml())).map { IdentityPinning($0).rawValue } ?? "unknown"
        let uptime = state.kind == .running ? await GuestUptime.readIfQuick(d, within: .seconds(1)) : nil
        var saved: String?
        if let controller {
            do {
                let images = try await controller.savedImages(of: d)
                if controller.isConflict(images.map(\.image), of: d.name) {
                    saved = "conflict"
                } else if images.contains(where: { $0.verdict.isCurrent }) {
                    saved = "current"
                } else if !images.isEmpty {
                    saved = "stale"
                }
            } catch { saved = "unknown" }
        }
        var row = Row(
            name: d.name, uuid: d.uuid.lowercasedString, state: "\(state.kind)", reason: state.reasonName,
            persistent: persistent, uptimeSeconds: uptime.map { ($0.inSeconds * 10).rounded() / 10 },
            managedSave: image, savedImage: saved, identity: identity, node: node)
        row.kind = state.kind
        return row
    }
}
