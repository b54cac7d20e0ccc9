import ArgumentParser
import Foundation
import VMManager

struct Slots: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the node's admission slots: which guests boot, restore or save now, and who waits.",
        discussion: """
            A failover starts every guest of the failed node at once here. vmmanager lets at most boot_slots guests \
            cold-boot at once (each until it is ready), restore_slots restore and save_slots save; the others wait \
            within their operation's timeout, highest priority first. The limits come from [global] of vmmanager.conf \
            (auto: a boot per CPU, two restores and two saves, fewer on a host short of memory).

            Examples:
              vmctl slots
              vmctl slots --json
            """)

    @OptionGroup var agent: AgentSettingsOptions
    @Flag(help: "Print JSON (see docs/vmctl.md).") var json = false

    struct Report: Encodable {
        struct Entry: Encodable {
            let guest: String
            let pid: Int32
            let priority: Int
            let since: Date
        }
        let kind: String
        let limit: Int
        let holding: [Entry]
        let waiting: [Entry]
    }

    func run() async throws {
        try await guarded {
            var parameters: [String: String] = [:]
            if agent.config != "/etc/vmmanager/vmmanager.conf" || FileManager.default.fileExists(atPath: agent.config) {
                parameters["conf_file"] = agent.config
            }
            let settings: GuestSettings
            do throws(ConfigError) {
                settings = try GuestSettings.resolve(parameters: parameters, parameterPrefix: "--")
            } catch { throw VMError(error) }
            let admission = Admission(lockDirectory: settings.lockDirectory, limits: settings.admissionLimits)
            func entries(_ list: [Admission.Entry]) -> [Report.Entry] {
                list.map { Report.Entry(guest: $0.guest, pid: $0.pid, priority: $0.priority, since: $0.since) }
            }
            let reports = Admission.Kind.allCases.map { kind in
                Report(
                    kind: kind.rawValue, limit: admission.limits[kind], holding: entries(admission.holders(of: kind)),
                    waiting: entries(admission.waiters(for: kind)))
            }
            if json { return try Output.json(reports) }
            var rows: [[(text: String, paint: Paint?)]] = [
                [
                    ("KIND", .bold), ("SLOTS", .bold), ("STATE", .bold),
                    ("GUEST", .bold), ("PID", .bold), ("PRIORITY", .bold),
                    ("FOR", .bold),
                ]
            ]
            for report in reports {
                let used = "\(report.holding.count)/\(report.limit)"
                if report.holding.isEmpty && report.waiting.isEmpty {
                    rows.append([
                        (report.kind, nil), (used, nil), ("-", nil), ("", nil), ("", nil), ("", nil), ("", nil),
                    ])
                }
                for (state, list, paint) in [
                    ("holding", report.holding, Paint.green), ("waiting", report.waiting, .yellow),
                ] {
                    for e in list {
                        let age = String(format: "%.1f s", Date().timeIntervalSince(e.since))
                        rows.append([
                            (report.kind, nil), (used, nil), (state, paint), (e.guest, nil), ("\(e.pid)", nil),
                            ("\(e.priority)", nil), (age, nil),
                        ])
                    }
                }
            }
            Output.line(formatTable(rows))
        }
    }
}
