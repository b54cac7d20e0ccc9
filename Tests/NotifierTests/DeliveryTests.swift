import Foundation
import IntegrationSupport
import Testing
import VMManager
import VMManagerDelivery

/// Delivery to a real SMTP server (python3-aiosmtpd) and a real HTTP receiver, both on loopback.
@Suite("Delivery to real servers", .serialized)
struct DeliveryTests {
    @Test("an event's mail has the thesis's subject, the fields, and proper headers")
    func mailContent() async throws {
        let scratch = try Scratch("mail")
        let smtp = try SMTPServer(in: scratch)
        let (notifier, _) = try scratch.notifier(
            """
            [notify]
            mail_to = admins@example.org, ops@example.org
            mail_from = cluster@example.org
            smtp_url = smtp://127.0.0.1:\(smtp.port)
            smtp_starttls = no
            spool_dir = \(scratch.path)/spool
            """)
        let event = sampleEvent()
        notifier.record(event)
        let report = await notifier.deliverPending()
        #expect(report.delivered == 1 && report.remaining == 0 && report.allDelivered)
        let mails = await smtp.waitForMessages(1)
        try #require(mails.count == 1)
        let mail = mails[0]
        #expect(mail.subject == "Virtual machine web1 up on node1")
        #expect(mail.sender == "cluster@example.org")
        #expect(Set(mail.recipients) == ["admins@example.org", "ops@example.org"])
        #expect(mail.eventID == event.id.uuidString.lowercased())
        #expect(mail.header("Message-ID") == "<\(event.id.uuidString.lowercased())@node1>")
        #expect(mail.header("To") == "admins@example.org, ops@example.org")
        #expect(mail.header("MIME-Version") == "1.0")
        #expect(
            mail.header("Content-Type")?.hasPrefix("text/plain; charset=\"utf-8\"") == true
                || mail.header("Content-Type")?.hasPrefix("text/plain; charset=utf-8") == true)
        #expect(mail.header("Date")?.hasSuffix("+0000") == true)
        for line in [
            "Virtual Machine: web1", "Status: up - running (restored)", "Uptime: 01:02:05",
            "Config: /etc/vmmanager/guests/web1.xml", "Host: node1", "Reason: start: booted",
            "Restore took: 0.53 s", "Boot wait: 5.20 s", "Migration downtime: 12 ms",
            "Event id: \(event.id.uuidString.lowercased())",
        ] {
            #expect(mail.body.contains(line + "\n"), "body lacks \(line)")
        }
    }

    @Test("a CR/LF in a field sent to a real server creates no header and no recipient")
    func injection() async throws {
        let scratch = try Scratch("inject")
        let smtp = try SMTPServer(in: scratch)
        let (notifier, _) = try scratch.notifier(
            """
            [notify]
            mail_to = admins@example.org
            smtp_url = smtp://127.0.0.1:\(smtp.port)
            smtp_starttls = no
            spool_dir = \(scratch.path)/spool
            """)
        var event = sampleEvent(guest: "web1\r\nX-Injected: yes", reason: "disk full\r\nBcc: evil@x")
        event.node = "node1\nBcc: evil2@x"
        event.newState = "running\r\n\r\nforged body"
        notifier.record(event)
        #expect(await notifier.deliverPending().delivered == 1)
        let mail = try #require(await smtp.waitForMessages(1).first)
        #expect(
            !mail.rawHeaderNames.contains { ["bcc", "x-injected"].contains($0.lowercased()) },
            "headers: \(mail.rawHeaderNames)")
        #expect(mail.header("Bcc") == nil && mail.header("X-Injected") == nil)
        #expect(mail.recipients == ["admins@example.org"])
        #expect(mail.subject == "Virtual machine web1 X-Injected: yes up on node1 Bcc: evil2@x")
        #expect(mail.body.contains("Reason: disk full\n    Bcc: evil@x\n"))
    }

    @Test("with the SMTP server down during 100 transitions, all 100 arrive once it is back")
    func hundredWhileDown() async throws {
        let scratch = try Scratch("hundred")
        let smtp = try SMTPServer(in: scratch)
        smtp.stop()
        let (notifier, config) = try scratch.notifier(
            """
            [notify]
            mail_to = admins@example.org
            smtp_url = smtp://127.0.0.1:\(smtp.port)
            smtp_starttls = no
            spool_dir = \(scratch.path)/spool
            """)
        var ids: Set<String> = []
        let vmctl = try vmctlPath
        for i in 0..<100 {
            let event = sampleEvent(
                guest: "vm\(i % 7)", transition: i % 2 == 0 ? .down : .up, reason: "transition \(i)")
            ids.insert(event.id.uuidString.lowercased())
            // What the agent does: record, then a detached flush, which finds the server down.
            guard case .spooled = notifier.recordAndFlush(event, flushExecutable: vmctl) else {
                Issue.record("event \(i) not spooled")
                return
            }
        }
        // Every flush failed; nothing was lost.
        #expect(await eventually(timeout: 60) { notifier.pending().count == 100 && !flushRunning(scratch) })
        let down = try run(vmctlPath, ["notify", "flush", "--config", config])
        #expect(down.status == 1)
        #expect(down.stdout.contains("delivered 0, still spooled 100"))
        #expect(smtp.messages.isEmpty)

        try smtp.start()
        let up = try run(vmctlPath, ["notify", "flush", "--config", config])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        #expect(up.stdout.contains("delivered 100, still spooled 0"))
        let mails = await smtp.waitForMessages(100)
        let received = Set(mails.map(\.eventID))
        #expect(mails.count == 100, "duplicates or losses: \(mails.count) messages")
        #expect(received == ids, "missing: \(ids.subtracting(received).count)")
        #expect(notifier.pending().isEmpty)
    }

    @Test("a webhook answering 500 is retried with backoff, then delivered; the receiver verifies the signature")
    func webhookRetried() async throws {
        let scratch = try Scratch("hook")
        let secret = try scratch.file("webhook.secret", "correct horse battery staple\n")
        let hook = try HTTPReceiver(in: scratch, ["--fail-first", "3", "--secret-file", secret])
        let (notifier, _) = try scratch.notifier(
            """
            [notify]
            webhook_url = \(hook.url)
            webhook_secret_file = \(secret)
            webhook_retries = 3
            webhook_backoff = 0.2
            spool_dir = \(scratch.path)/spool
            """)
        let event = sampleEvent()
        notifier.record(event)
        let report = await notifier.deliverPending()
        #expect(report.delivered == 1 && report.remaining == 0)
        #expect(report.results.map(\.detail) == ["HTTP 200 after 4 attempts"])
        let requests = hook.records()
        try #require(requests.count == 4)
        #expect(requests.map { $0["status"] as? Int } == [500, 500, 500, 200])
        #expect(requests.allSatisfy { $0["signature_ok"] as? Bool == true }, "python's hmac disagrees")
        let headers = requests.map { $0["headers"] as? [String: String] ?? [:] }
        #expect(headers.allSatisfy { $0["X-Vmmanager-Event-Id"] == event.id.uuidString.lowercased() })
        #expect(headers.map { $0["X-Vmmanager-Attempt"] } == ["1", "2", "3", "4"])
        let body = try #require(requests.last?["json"] as? [String: Any])
        #expect(body["id"] as? String == event.id.uuidString.lowercased() && body["transition"] as? String == "up")
        // Exponential backoff: 0.2 s, 0.4 s, 0.8 s between the attempts.
        let times = requests.compactMap { $0["received_at"] as? Double }
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        #expect(gaps.count == 3 && gaps[0] >= 0.18 && gaps[1] >= 0.38 && gaps[2] >= 0.78, "gaps \(gaps)")
        #expect(gaps[1] > gaps[0] * 1.5 && gaps[2] > gaps[1] * 1.5, "not exponential: \(gaps)")
    }

    @Test("a target that accepted is not sent the event again when another target is retried")
    func perTargetTracking() async throws {
        let scratch = try Scratch("targets")
        let smtp = try SMTPServer(in: scratch)
        let hook = try HTTPReceiver(in: scratch, ["--fail-first", "1000"])
        let (notifier, _) = try scratch.notifier(
            """
            [notify]
            mail_to = admins@example.org
            smtp_url = smtp://127.0.0.1:\(smtp.port)
            smtp_starttls = no
            webhook_url = \(hook.url)
            webhook_retries = 1
            webhook_backoff = 0.05
            spool_dir = \(scratch.path)/spool
            """)
        let event = sampleEvent()
        notifier.record(event)
        var report = await notifier.deliverPending()
        #expect(report.delivered == 0 && report.remaining == 1)
        #expect(report.failures.values.contains { $0.contains("HTTP 500") })
        let spooled = try #require(notifier.pending().first).content.get()
        #expect(spooled.delivered.keys.contains { $0.hasPrefix("mail ") })
        #expect(spooled.attempts.values.first?.count == 1)
        report = await notifier.deliverPending()
        #expect(report.remaining == 1)

        // The receiver comes back healthy on the configured port.
        try hook.restart(with: [])
        report = await notifier.deliverPending()
        #expect(report.delivered == 1 && report.remaining == 0)
        #expect(smtp.messages.count == 1, "the mail target got the event again")
        #expect(hook.records().filter { $0["status"] as? Int == 200 }.count == 1)
        #expect(hook.records().count == 5, "2 flushes x 2 failed attempts, then 1 accepted")
    }

    @Test("a 4xx answer is not retried within the flush; the event stays")
    func clientErrorNotRetried() async throws {
        let scratch = try Scratch("404")
        let hook = try HTTPReceiver(in: scratch, ["--fail-first", "1000", "--status", "404"])
        let (notifier, _) = try scratch.notifier(
            """
            [notify]
            webhook_url = \(hook.url)
            webhook_backoff = 0.05
            spool_dir = \(scratch.path)/spool
            """)
        notifier.record(sampleEvent())
        let report = await notifier.deliverPending()
        #expect(report.remaining == 1 && hook.records().count == 1)
        #expect(report.failures.values.first?.contains("HTTP 404") == true)
    }

    @Test("a webhook that does not answer times out at webhook_timeout")
    func webhookTimeout() async throws {
        let scratch = try Scratch("timeout")
        let hook = try HTTPReceiver(in: scratch, ["--hang-first", "1"])
        let (notifier, _) = try scratch.notifier(
            """
            [notify]
            webhook_url = \(hook.url)
            webhook_timeout = 0.5
            webhook_retries = 1
            webhook_backoff = 0.05
            spool_dir = \(scratch.path)/spool
            """)
        notifier.record(sampleEvent())
        let clock = ContinuousClock()
        var report = Notifier.FlushReport()
        let elapsed = await clock.measure { report = await notifier.deliverPending() }
        #expect(report.delivered == 1, "\(report.failures)")
        #expect(elapsed < .seconds(3), "took \(elapsed)")
        #expect(report.results.first?.detail == "HTTP 200 after 2 attempts")
    }

    @Test("a webhook secret file of mode 0644 is refused: nothing is sent, the event stays, the error says why")
    func secretModeRefused() async throws {
        let scratch = try Scratch("mode")
        let secret = try scratch.file("webhook.secret", "s3cret\n", mode: 0o644)
        let hook = try HTTPReceiver(in: scratch)
        let (notifier, config) = try scratch.notifier(
            """
            [notify]
            webhook_url = \(hook.url)
            webhook_secret_file = \(secret)
            spool_dir = \(scratch.path)/spool
            """)
        notifier.record(sampleEvent())
        let report = await notifier.deliverPending()
        #expect(report.remaining == 1 && hook.records().isEmpty)
        let why = try #require(report.failures.values.first)
        #expect(why.contains(secret) && why.contains("mode 0644") && why.contains("chmod 600"))
        let test = try run(vmctlPath, ["notify", "test", "--config", config])
        #expect(test.status == 1 && test.stdout.contains("FAILED") && test.stdout.contains("mode 0644"))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret)
        #expect(await notifier.deliverPending().delivered == 1)
    }

    @Test("STARTTLS: an untrusted certificate is refused by default; with tls_ca_file, AUTH over TLS works")
    func startTLSAndAuth() async throws {
        let scratch = try Scratch("tls")
        let (cert, key) = try selfSignedCertificate(in: scratch)
        let smtp = try SMTPServer(
            in: scratch, ["--starttls", cert, key, "--require-starttls", "--auth", "alice:pw-123"])
        let password = try scratch.file("smtp.password", "pw-123\n")
        let base = """
            [notify]
            mail_to = admins@example.org
            smtp_url = smtp://127.0.0.1:\(smtp.port)
            smtp_user = alice
            smtp_password_file = \(password)
            spool_dir = \(scratch.path)/spool
            """
        let (untrusting, _) = try scratch.notifier(base)
        untrusting.record(sampleEvent())
        let refused = await untrusting.deliverPending()
        #expect(refused.delivered == 0)
        #expect(refused.failures.values.first?.contains("tls_ca_file") == true, "\(refused.failures)")
        #expect(smtp.messages.isEmpty)

        let (trusting, _) = try scratch.notifier(base + "\ntls_ca_file = \(cert)\nsmtp_starttls = required\n")
        let report = await trusting.deliverPending()
        #expect(report.delivered == 1, "\(report.failures)")
        let mail = try #require(await smtp.waitForMessages(1).first)
        #expect(mail.tls && mail.login == "alice")
    }

    @Test("SMTPS (TLS from the first byte) with a trusted CA")
    func smtps() async throws {
        let scratch = try Scratch("smtps")
        let (cert, key) = try selfSignedCertificate(in: scratch)
        let smtp = try SMTPServer(in: scratch, ["--smtps", cert, key])
        let (notifier, _) = try scratch.notifier(
            """
            [notify]
            mail_to = admins@example.org
            smtp_url = smtps://127.0.0.1:\(smtp.port)
            tls_ca_file = \(cert)
            spool_dir = \(scratch.path)/spool
            """)
        notifier.record(sampleEvent())
        #expect(await notifier.deliverPending().delivered == 1)
        #expect(await smtp.waitForMessages(1).first?.subject == "Virtual machine web1 up on node1")
    }

    @Test("per-guest recipients: each guest's mail goes to its own section's addresses")
    func perGuestRecipients() async throws {
        let scratch = try Scratch("guests")
        let smtp = try SMTPServer(in: scratch)
        let (notifier, _) = try scratch.notifier(
            """
            [notify]
            mail_to = admins@example.org
            smtp_url = smtp://127.0.0.1:\(smtp.port)
            smtp_starttls = no
            spool_dir = \(scratch.path)/spool

            [guest web1]
            mail_to = web-team@example.org
            """)
        notifier.record(sampleEvent(guest: "web1"))
        notifier.record(sampleEvent(guest: "db1"))
        #expect(await notifier.deliverPending().delivered == 2)
        let mails = await smtp.waitForMessages(2)
        let bySubject = Dictionary(uniqueKeysWithValues: mails.map { ($0.subject, $0.recipients) })
        #expect(bySubject["Virtual machine web1 up on node1"] == ["web-team@example.org"])
        #expect(bySubject["Virtual machine db1 up on node1"] == ["admins@example.org"])
    }
}

/// Whether a `vmctl notify flush` still runs on this scratch directory's configuration.
func flushRunning(_ scratch: Scratch) -> Bool {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for pid in entries where Int(pid) != nil {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
        let args = String(decoding: data, as: UTF8.self)
        if args.contains("notify\0flush") && args.contains(scratch.path) { return true }
    }
    return false
}

/// A key and a self-signed certificate for 127.0.0.1 (openssl).
func selfSignedCertificate(in scratch: Scratch) throws -> (cert: String, key: String) {
    let cert = "\(scratch.path)/cert.pem"
    let key = "\(scratch.path)/key.pem"
    let r = try run(
        "/usr/bin/openssl",
        [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
    try #require(r.status == 0, "openssl: \(r.stderr)")
    return (cert, key)
}
