import ArgumentParser
import Foundation
import Libvirt
import VMManager

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List guests with their state.",
        discussion: """
            Shows running guests; --all adds defined guests that are stopped.

            Examples:
              vmctl list
              vmctl list --all --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Include stopped (defined) guests.") var all = false
    @Flag(help: "Print JSON (an array of objects) instead of a table.") var json = false

    struct Row: Codable {
        let name: String
        let uuid: String
        let state: String
        let reason: String
        let persistent: Bool
        let managedSave: Bool
    }

    func run() async throws {
        try await guarded {
            let host = try await connection.connect(readOnly: true)
            let domains = try await host.connection.domains(all ? [] : .active)
            var rows: [Row] = []
            for d in domains.sorted(by: { $0.name < $1.name }) {
                let state = try await d.state()
                let persistent = try await d.isPersistent()
                let image = persistent ? try await d.hasManagedSaveImage() : false
                rows.append(Row(name: d.name, uuid: d.uuid.uuidString.lowercased(), state: "\(state.kind)",
                                reason: state.reasonName, persistent: persistent, managedSave: image))
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                say(String(decoding: try encoder.encode(rows), as: UTF8.self))
                return
            }
            let table = [["NAME", "STATE", "UUID", "MANAGED-SAVE"]] + rows.map {
                [$0.name, "\($0.state) (\($0.reason))", $0.uuid, $0.managedSave ? "yes" : "-"]
            }
            say(formatTable(table))
        }
    }
}

func formatTable(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    let widths = (0..<first.count).map { col in rows.map { $0[col].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }.joined(separator: "\n")
}
