import FoundationEssentials
import VMManager
#if canImport(Glibc)
import Glibc
#endif

/// The e-mail of one event: RFC 5322 headers and a plain-text UTF-8 body in the thesis's layout.
///
/// Every value that reaches a header passes ``headerText(_:)``, which turns CR, LF and every other control
/// character into a space, so no field — a guest name, a reason copied from a libvirt error, a Pacemaker
/// description — can end a header and start another (`Bcc:` injection). Non-ASCII text is RFC 2047-encoded.
/// Multi-line values in the body are indented, so they cannot pose as other fields either.
public struct MailMessage: Sendable {
    public let subject: String
    public let messageID: String
    /// The whole message, CRLF line ends, ready for `DATA`.
    public let bytes: [UInt8]

    /// Builds the message of `event` from `from` to `to` (addresses already validated by ``NotifySettings``).
    public init(event: TransitionEvent, from: String, to: [String]) {
        subject = Self.headerText(event.subject)
        messageID = "<\(event.id.uuidString.lowercased())@\(Self.domainPart(event.node))>"
        var headers: [(String, String)] = [
            ("Date", Self.rfc5322Date(event.timestamp)),
            ("From", "vmmanager <\(from)>"),
            ("To", to.joined(separator: ", ")),
            ("Subject", subject),
            ("Message-ID", messageID),
            ("MIME-Version", "1.0"),
            // RFC 3834: keeps vacation auto-replies away from a cluster's mail.
            ("Auto-Submitted", "auto-generated"),
            ("X-Vmmanager-Event-Id", event.id.uuidString.lowercased()),
            ("X-Vmmanager-Transition", EventText.token(event.transition.rawValue)),
        ]
        let body = Self.body(event)
        let needsEncoding =
            !body.utf8.allSatisfy { $0 < 0x80 }
            || body.split(separator: "\n").contains { $0.utf8.count > 900 }
        headers.append(("Content-Type", "text/plain; charset=utf-8"))
        headers.append(("Content-Transfer-Encoding", needsEncoding ? "quoted-printable" : "7bit"))

        var text = ""
        for (name, value) in headers { text += Self.header(name, value) + "\r\n" }
        text += "\r\n"
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if needsEncoding {
            text += lines.map(Self.quotedPrintable).joined(separator: "\r\n")
        } else {
            text += lines.joined(separator: "\r\n")
        }
        text += "\r\n"
        bytes = Array(text.utf8)
    }

    /// The plain-text body: the thesis's four lines first (name, status, uptime, config), then the host and
    /// what the thesis did not have.
    public static func body(_ e: TransitionEvent) -> String {
        var lines: [(String, String)] = []
        if let guest = e.guest {
            lines.append(("Virtual Machine", guest))
        } else if let resource = e.resource {
            lines.append(("Resource", resource))
        } else if let node = e.clusterNode {
            lines.append(("Cluster node", node))
        }
        lines.append(("Status", e.newState.map { "\(e.transition) - \($0)" } ?? e.transition.rawValue))
        if e.guest != nil || e.guestUptimeSeconds != nil {
            lines.append(("Uptime", e.guestUptimeSeconds.map(EventText.formatUptime) ?? "-"))
        }
        if e.guest != nil || e.configPath != nil { lines.append(("Config", e.configPath ?? "-")) }
        lines.append(("Host", e.node))
        lines.append(("", ""))
        lines.append(("Transition", e.transition.rawValue))
        lines.append(("Reason", e.reason.isEmpty ? "-" : e.reason))
        if let p = e.previousState { lines.append(("Previous state", p)) }
        if let n = e.newState { lines.append(("New state", n)) }
        if let r = e.durations.restoreSeconds { lines.append(("Restore took", EventText.formatSeconds(r))) }
        if let b = e.durations.bootWaitSeconds { lines.append(("Boot wait", EventText.formatSeconds(b))) }
        if let m = e.durations.migrationDowntimeMilliseconds { lines.append(("Migration downtime", "\(m) ms")) }
        lines.append(("Time", iso8601(e.timestamp)))
        if let uuid = e.guestUUID { lines.append(("Guest UUID", uuid.uuidString.lowercased())) }
        if !e.details.isEmpty { lines.append(("Details", "")) }
        for key in e.details.keys.sorted() { lines.append(("  " + key, e.details[key]!)) }
        lines.append(("Source", e.source.rawValue))
        lines.append(("Event id", e.id.uuidString.lowercased()))
        return lines.map { name, value in
            if name.isEmpty { return "" }
            if value.isEmpty { return "\(name):" }
            return "\(name): " + indentContinuationLines(value)
        }.joined(separator: "\n") + "\n"
    }

    /// `Reason: first line` + `    second line`: any line break inside a value is indented.
    static func indentContinuationLines(_ value: String) -> String {
        let normalised = value.replacing("\r\n", with: "\n").replacing("\r", with: "\n")
        let lines = normalised.split(separator: "\n", omittingEmptySubsequences: false).map(EventText.cleanControls)
        return lines.joined(separator: "\n    ")
    }

    /// A header value with every CR, LF and other control character replaced by a space: it can never end
    /// the header it is in.
    public static func headerText(_ value: String) -> String {
        EventText.cleanControls(value.replacing("\r\n", with: " ")).trimmed
    }

    /// `Name: value`, folded below 78 columns; non-ASCII values as RFC 2047 encoded-words.
    static func header(_ name: String, _ rawValue: String) -> String {
        let value = headerText(rawValue)
        if value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f }) {
            return fold("\(name): \(value)")
        }
        // RFC 2047: each encoded-word at most 75 characters (39 bytes make 64), whole characters only, one per
        // folded line, so that even the first line, after "Subject: ", stays within 76.
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in value.unicodeScalars {
            let utf8 = Array(String(scalar).utf8)
            if chunk.count + utf8.count > 39 {
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += utf8
        }
        if !chunk.isEmpty { words.append(encodedWord(chunk)) }
        return "\(name): " + words.joined(separator: "\r\n ")
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?="
    }

    /// Folds an ASCII header line at spaces so that lines stay within 78 characters where possible.
    static func fold(_ line: String) -> String {
        guard line.count > 78 else { return line }
        var out: [String] = []
        var current = ""
        for word in line.split(separator: " ") {
            if current.isEmpty {
                current = String(word)
            } else if current.count + 1 + word.count > 78 {
                out.append(current)
                current = String(word)
            } else {
                current += " " + word
            }
        }
        out.append(current)
        return out.joined(separator: "\r\n ")
    }

    /// One line in quoted-printable (RFC 2045 6.7), soft-broken at 76 characters.
    static func quotedPrintable(_ line: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [String] = []
        var current: [UInt8] = []
        let bytes = Array(line.utf8)
        for (index, b) in bytes.enumerated() {
            let last = index == bytes.count - 1
            var piece: [UInt8]
            if (b >= 33 && b <= 126 && b != UInt8(ascii: "=")) || ((b == 32 || b == 9) && !last) {
                piece = [b]
            } else {
                piece = [UInt8(ascii: "="), hex[Int(b >> 4)], hex[Int(b & 0x0f)]]
            }
            if current.count + piece.count > 75 {
                out.append(String(decoding: current + [UInt8(ascii: "=")], as: UTF8.self))
                current = []
            }
            current += piece
        }
        out.append(String(decoding: current, as: UTF8.self))
        return out.joined(separator: "\r\n")
    }

    /// Something safe for the right-hand side of a Message-ID.
    static func domainPart(_ host: String) -> String {
        let safe = host.unicodeScalars.filter {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "-")
        }
        let s = String(String.UnicodeScalarView(safe))
        return s.isEmpty ? "vmmanager.invalid" : s
    }

    /// `Tue, 07 May 2024 14:03:09 +0000` (RFC 5322 3.3), always in UTC.
    public static func rfc5322Date(_ date: Date) -> String { EventText.rfc5322Date(date) }

    /// `2024-05-07T14:03:09.123Z`.
    public static func iso8601(_ date: Date) -> String { EventText.iso8601(date) }
}
