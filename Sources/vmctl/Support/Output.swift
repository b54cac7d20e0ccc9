import Foundation
import Libvirt

/// How vmctl writes results. stdout carries results only (tables, JSON, events), stderr diagnostics.
/// Colours go to a terminal only: never with --json, never when stdout is piped or redirected, and not when
/// `NO_COLOR` is set or `TERM=dumb` (https://no-color.org).
enum Output {
    static let colorsOnStdout: Bool = {
        let env = ProcessInfo.processInfo.environment
        return isatty(1) == 1 && env["NO_COLOR"] == nil && env["TERM"] != "dumb"
    }()

    /// Prints `value` as JSON: keys sorted, slashes unescaped (URIs and paths stay readable), pretty-printed
    /// unless `compact` (one line: for streams such as `events --json`).
    static func json<T: Encodable>(_ value: T, compact: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            compact
            ? [.sortedKeys, .withoutEscapingSlashes]
            : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Output.timestamp(date))
        }
        say(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Writes one line and flushes, for output that must arrive as it happens even through a pipe.
    static func line(_ text: String) {
        print(text)
        fflush(nil)  // nil: every stream; `stdout` is a global Swift 6 will not touch
    }

    /// ISO 8601 in UTC with milliseconds: `2025-01-31T12:00:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// ANSI colours for the few words worth colouring.
enum Paint: String {
    case green = "32", yellow = "33", red = "31", bold = "1"

    func apply(_ text: String, when enabled: Bool = Output.colorsOnStdout) -> String {
        enabled ? "\u{1B}[\(rawValue)m\(text)\u{1B}[0m" : text
    }

    /// Green running, yellow in between (paused, blocked, in shutdown, pmsuspended), red shut off or crashed.
    static func forState(_ kind: DomainState.Kind) -> Paint {
        switch kind {
        case .running: .green
        case .paused, .blocked, .shuttingDown, .pmSuspended: .yellow
        default: .red
        }
    }
}

/// A table whose cells may be coloured; widths are measured on the plain text.
func formatTable(_ rows: [[(text: String, paint: Paint?)]]) -> String {
    guard let first = rows.first else { return "" }
    let widths = (0..<first.count).map { col in rows.map { $0[col].text.count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { i, cell in
            let padded =
                i == row.count - 1
                ? cell.text
                : cell.text.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            // Colour the text only, so the padding stays plain.
            guard let paint = cell.paint else { return padded }
            return paint.apply(cell.text) + String(padded.dropFirst(cell.text.count))
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}

/// A plain table.
func formatTable(_ rows: [[String]]) -> String {
    formatTable(rows.map { $0.map { (text: $0, paint: nil) } })
}

/// "42s", "5m 03s", "2h 05m", "3d 04h": guest uptimes and image ages, at a glance.
func formatAge(_ seconds: Double) -> String {
    let s = Int(seconds.rounded(.down))
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m \(two(s % 60))s" }
    if s < 86400 { return "\(s / 3600)h \(two(s % 3600 / 60))m" }
    return "\(s / 86400)d \(two(s % 86400 / 3600))h"
}

/// "80.2 MiB".
func formatBytes(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : "\((value * 10).rounded() / 10) \(units[unit])"
}
