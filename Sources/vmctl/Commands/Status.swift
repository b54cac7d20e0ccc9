import ArgumentParser
import Foundation
import Libvirt
import VMManager

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one guest's state, identity, managed-save image and readiness.",
        discussion: """
            Exits 0 when the guest runs, 7 when it is defined but not running (like an OCF monitor), 2 when it does not exist.

            Examples:
              vmctl status web1
              vmctl status web1 --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Guest name or UUID.") var guest: String
    @Flag(help: "Print JSON instead of text.") var json = false

    struct Report: Codable {
        let name: String
        let uuid: String
        let state: String
        let reason: String
        let persistent: Bool
        let managedSave: Bool
        let guestAgent: Bool?
        let uptimeSeconds: Double?
        let host: String
    }

    func run() async throws {
        var running = false
        try await guarded {
            let host = try await connection.connect(readOnly: false)
            let d = try await host.guest(guest)
            let state = try await d.state()
            running = state.isActive
            let persistent = try await d.isPersistent()
            let image = persistent ? try await d.hasManagedSaveImage() : false
            var agent: Bool?
            var uptime: Duration?
            if state.kind == .running {
                agent = (try? await d.pingAgent(timeout: .seconds(1))) != nil
                if agent == true { uptime = try? await GuestUptime.read(d, timeout: .seconds(3)) }
            }
            let report = Report(
                name: d.name, uuid: d.uuid.uuidString.lowercased(), state: "\(state.kind)", reason: state.reasonName,
                persistent: persistent, managedSave: image, guestAgent: agent, uptimeSeconds: uptime?.inSeconds,
                host: try await host.connection.hostname())
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                say(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                say("""
                    name:          \(report.name)
                    uuid:          \(report.uuid)
                    state:         \(report.state) (\(report.reason))
                    persistent:    \(report.persistent ? "yes" : "no (transient)")
                    managed save:  \(report.managedSave ? "yes (next start resumes it)" : "no")
                    guest agent:   \(agent.map { $0 ? "answers" : "does not answer" } ?? "-")
                    guest uptime:  \(uptime?.formattedSeconds ?? "-")
                    host:          \(report.host)
                    """)
            }
        }
        if !running { throw ExitCode(7) }
    }
}
