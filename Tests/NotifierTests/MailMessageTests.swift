import Foundation
import Testing
import VMManager
import VMManagerDelivery

/// The message as bytes, before any server sees it.
@Suite("Mail message format")
struct MailMessageTests {
    /// The header block, unfolded, as (name, value) pairs, and the body.
    static func parse(_ message: MailMessage) -> (headers: [(String, String)], body: String) {
        let text = String(decoding: message.bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let unfolded = parts[0].replacingOccurrences(of: "\r\n ", with: " ")
        let headers = unfolded.components(separatedBy: "\r\n").map { line -> (String, String) in
            let colon = line.firstIndex(of: ":")!
            return (
                String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            )
        }
        return (headers, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    @Test("subject in the thesis's form and the RFC 5322 headers")
    func headers() throws {
        let event = sampleEvent()
        let message = MailMessage(event: event, from: "cluster@example.org", to: ["a@example.org", "b@example.org"])
        let (headers, _) = Self.parse(message)
        let names = headers.map(\.0)
        for required in ["Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type"] {
            #expect(names.filter { $0 == required }.count == 1, "\(required) missing or repeated")
        }
        let value = { (n: String) in headers.first { $0.0 == n }?.1 ?? "" }
        #expect(value("Subject") == "Virtual machine web1 up on node1")
        #expect(value("To") == "a@example.org, b@example.org")
        #expect(value("From") == "vmmanager <cluster@example.org>")
        #expect(value("Message-ID") == "<\(event.id.uuidString.lowercased())@node1>")
        #expect(value("Content-Type") == "text/plain; charset=utf-8")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let date = try #require(formatter.date(from: value("Date")))
        #expect(abs(date.timeIntervalSince(event.timestamp)) < 1)
        // No line longer than RFC 5322's 998 characters, every line ends in CRLF.
        let text = String(decoding: message.bytes, as: UTF8.self)
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
    }

    @Test("the body has the thesis's fields, the reason, the durations and the event id")
    func body() {
        let event = sampleEvent()
        let body = MailMessage.body(event)
        let lines = body.components(separatedBy: "\n")
        #expect(
            Array(lines.prefix(5)) == [
                "Virtual Machine: web1", "Status: up - running (restored)", "Uptime: 01:02:05",
                "Config: /etc/vmmanager/guests/web1.xml", "Host: node1",
            ])
        for line in [
            "Reason: start: booted", "Previous state: shut off (saved)", "Restore took: 0.53 s",
            "Boot wait: 5.20 s", "Migration downtime: 12 ms", "Source: agent",
            "Event id: \(event.id.uuidString.lowercased())", "Guest UUID: 4b1c7a36-9d0e-5f2a-8c3b-2d1e0f9a8b7c",
        ] {
            #expect(lines.contains(line), "missing: \(line)")
        }
    }

    @Test(
        "CR and LF in any field never start a header",
        arguments: [
            "ok\r\nBcc: evil@example.com", "ok\nBcc: evil@example.com", "ok\rBcc: evil@example.com",
            "ok\r\n\r\nBcc: evil@example.com", "ok\u{0B}\u{0C}\u{85}\u{2028}Bcc: evil@example.com",
        ])
    func injection(payload: String) {
        var event = sampleEvent(guest: "web1" + payload, reason: payload)
        event.node = "node1" + payload
        event.transition = TransitionKind(rawValue: "up" + payload)
        event.newState = payload
        event.details = ["desc": payload]
        let message = MailMessage(event: event, from: "cluster@example.org", to: ["a@example.org"])
        let (headers, body) = Self.parse(message)
        #expect(!headers.contains { $0.0.lowercased() == "bcc" })
        #expect(headers.count == 11)
        // In the body a second line of a value is indented: it cannot pose as a field either.
        #expect(!body.components(separatedBy: "\r\n").contains { $0.hasPrefix("Bcc:") })
        #expect(message.subject.contains("web1ok"))
        #expect(!message.subject.contains("\r") && !message.subject.contains("\n"))
    }

    @Test("a non-ASCII subject is RFC 2047-encoded and decodes back; the body is quoted-printable")
    func unicode() throws {
        let event = sampleEvent(guest: "wébserveur-日本-" + String(repeating: "ü", count: 40), reason: "Grüße")
        let message = MailMessage(event: event, from: "c@example.org", to: ["a@example.org"])
        let text = String(decoding: message.bytes, as: UTF8.self)
        #expect(message.bytes.allSatisfy { $0 < 0x80 }, "an 8-bit byte in the message")
        let (headers, body) = Self.parse(message)
        let subject = try #require(headers.first { $0.0 == "Subject" }?.1)
        // Each encoded-word at most 75 characters, each folded line at most 78.
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.count <= 78 || !$0.contains("=?UTF-8?") })
        let decoded = subject.components(separatedBy: " ").map { word -> String in
            let inner = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return String(decoding: Data(base64Encoded: String(inner))!, as: UTF8.self)
        }.joined()
        #expect(decoded == "Virtual machine \(event.guest!) up on node1")
        #expect(headers.contains { $0 == ("Content-Transfer-Encoding", "quoted-printable") })
        #expect(body.contains("Reason: Gr=C3=BC=C3=9Fe"))
    }

    @Test("cluster events name the node or resource in the subject")
    func clusterSubjects() {
        let lost = TransitionEvent(
            transition: .nodeLost, guest: nil, clusterNode: "node2", reason: "lost", node: "node1",
            source: .alert)
        #expect(lost.subject == "Cluster node node2 lost (reported by node1)")
        let failed = TransitionEvent(
            transition: .startFailed, guest: nil, resource: "vm-web1", reason: "rc 1",
            node: "node1", source: .alert)
        #expect(failed.subject == "Resource vm-web1 start-failed on node1")
    }

    @Test("the webhook body has the documented keys, null for what is unknown")
    func webhookSchema() throws {
        var event = sampleEvent()
        event.guestUptimeSeconds = nil
        let json = try #require(
            JSONSerialization.jsonObject(with: Data(WebhookPayload(event).json())) as? [String: Any])
        #expect(
            Set(json.keys) == [
                "schema", "id", "timestamp", "transition", "source", "node", "guest", "cluster_node", "resource",
                "reason", "previous_state", "new_state", "guest_uptime_seconds", "config_path", "durations", "details",
                "subject",
            ])
        #expect(json["schema"] as? String == "vmmanager.transition.v1")
        #expect(json["id"] as? String == event.id.uuidString.lowercased())
        #expect(json["guest_uptime_seconds"] is NSNull)
        #expect((json["guest"] as? [String: Any])?["name"] as? String == "web1")
        #expect((json["durations"] as? [String: Any])?["migration_downtime_ms"] as? Int == 12)
        let stamp = try #require(json["timestamp"] as? String)
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(stamp.hasSuffix("Z") && iso.date(from: stamp) != nil)
        // The same event always gives the same bytes (and signature).
        #expect(WebhookPayload(event).json() == WebhookPayload(event).json())
    }
}
