import Foundation
import IntegrationSupport
import Testing
import VMManager
import VMManagerDelivery

/// record(): durable, fast, never in the way; the spool's bookkeeping.
@Suite("Spool")
struct SpoolTests {
    /// A configuration whose targets are down: nothing listens on the SMTP port and the webhook.
    static func downConfig(_ scratch: Scratch) throws -> String {
        let port = try closedPort()
        return """
            [notify]
            mail_to = admins@example.org
            smtp_url = smtp://127.0.0.1:\(port)
            smtp_starttls = no
            webhook_url = http://127.0.0.1:\(port)/hook
            webhook_retries = 0
            spool_dir = \(scratch.path)/spool
            """
    }

    @Test("record writes the event to the spool, durably, and it reads back the same")
    func recordWrites() throws {
        let scratch = try Scratch("spool")
        let (notifier, _) = try scratch.notifier(Self.downConfig(scratch))
        let event = sampleEvent()
        let outcome = notifier.record(event)
        guard case .spooled(let path) = outcome else {
            Issue.record("not spooled: \(outcome)")
            return
        }
        #expect(path.hasPrefix("\(scratch.path)/spool/") && path.hasSuffix("\(event.id.uuidString.lowercased()).event"))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let pending = notifier.pending()
        #expect(pending.count == 1)
        let stored = try pending[0].content.get()
        #expect(stored.event == event && stored.delivered.isEmpty)
        // No temporary file is left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(scratch.path)/spool")
        #expect(!names.contains { $0.hasPrefix(".tmp-") })
    }

    @Test(
        "an event of a kind this build does not know (an older or newer spool) is read, kept and written back as it is")
    func unknownKindSurvives() throws {
        let scratch = try Scratch("unknown-kind")
        let (notifier, _) = try scratch.notifier(Self.downConfig(scratch))
        guard case .spooled(let path) = notifier.record(sampleEvent()) else {
            Issue.record("not spooled")
            return
        }
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written.contains(#""transition":"up""#))
        try written.replacing(#""transition":"up""#, with: #""transition":"guest-hibernated""#)
            .write(toFile: path, atomically: true, encoding: .utf8)
        let pending = notifier.pending()
        #expect(pending.count == 1)
        let event = try pending[0].content.get().event
        #expect(event.transition == .other("guest-hibernated") && event.transition.rawValue == "guest-hibernated")
        #expect(event.subject.contains("guest-hibernated"))
        let again = try JSONDecoder().decode(TransitionEvent.self, from: JSONEncoder().encode(event))
        #expect(again.transition.rawValue == "guest-hibernated" && again == event)
    }

    @Test("transition kinds keep the raw values the spool, mails and webhooks carry")
    func kindRawValues() throws {
        let expected = [
            "up", "down", "migrated", "crashed", "resumed-from-saved", "restore-failed-cold-booted",
            "stale-image-discarded", "saved-state-conflict", "stop-escalated", "start-failed",
            "shut-down-by-guest", "paused", "paused-io-error", "paused-watchdog", "resumed", "node-lost",
            "node-joined", "fenced", "fencing-failed", "recovery-requested", "restarted-locally",
            "handed-to-peer", "test",
        ]
        #expect(TransitionKind.named.map(\.rawValue) == expected)
        for raw in expected {
            let kind = TransitionKind(rawValue: raw)
            if case .other = kind { Issue.record("\(raw) has no name") }
            #expect(try JSONEncoder().encode(kind) == Data("\"\(raw)\"".utf8))
        }
        #expect(TransitionKind(rawValue: "monitor-failed") == .other("monitor-failed"))
        // A named kind spelled as other is the same kind.
        #expect(TransitionKind.other("up") == .up && Set([TransitionKind.other("up"), .up]).count == 1)
        let t = Transition(kind: .resumedFromSaved, guest: "web1", uuid: nil, reason: "start: restored")
        #expect(TransitionEvent(t).transition.rawValue == "resumed-from-saved")
    }

    /// What the agent does after an action: record (two fsyncs, ~8 ms on this machine's disk) and start the
    /// detached flush. Each must stay far below what a cluster action could notice, with the targets down.
    @Test("record and the detached flush each return in milliseconds while every target is down")
    func recordIsFast() async throws {
        let scratch = try Scratch("fast")
        let (notifier, config) = try scratch.notifier(Self.downConfig(scratch))
        let vmctl = try vmctlPath
        let clock = ContinuousClock()
        var records: [Duration] = []
        var spawns: [Duration] = []
        for i in 0..<30 {
            let event = sampleEvent(reason: "fast \(i)")
            var outcome = Notifier.RecordOutcome.disabled
            records.append(clock.measure { outcome = notifier.record(event) })
            guard case .spooled = outcome else {
                Issue.record("not spooled: \(outcome)")
                return
            }
            var spawned: Result<Int32, SpoolError> = .success(0)
            spawns.append(
                clock.measure {
                    spawned = Notifier.spawnBackgroundFlush(executable: vmctl, configPath: config)
                })
            let pid = try spawned.get()
            // As after a real action: the next one comes once this flush has given up on the dead targets.
            #expect(await eventually(timeout: 10) { kill(pid, 0) != 0 })
        }
        // Bounds far below any network timeout (a record or spawn that waited on the dead targets would take
        // seconds), with room for two fsyncs on a busy disk; the figures themselves are in `make bench`.
        #expect(records.max()! < .milliseconds(300), "record() took up to \(records.max()!)")
        #expect(spawns.max()! < .milliseconds(300), "spawning the flush took up to \(spawns.max()!)")
        #expect(notifier.pending().count >= 1)
    }

    @Test("a spool that cannot be written is reported, not thrown, and nothing crashes")
    func unwritableSpool() throws {
        let scratch = try Scratch("unwritable")
        let blocker = try scratch.file("not-a-dir", "")
        let file = try ConfigFile.parse(
            "[notify]\nmail_to = a@example.org\nspool_dir = \(blocker)/spool\n", path: "x.conf")
        let notifier = Notifier(configuration: file)
        guard case .failed(let why) = notifier.record(sampleEvent()) else {
            Issue.record("expected a failure")
            return
        }
        #expect(why.contains(blocker))
    }

    @Test("no target for the guest: nothing is spooled")
    func disabled() throws {
        let scratch = try Scratch("disabled")
        let (notifier, _) = try scratch.notifier(
            """
            [notify]
            spool_dir = \(scratch.path)/spool
            [guest web1]
            mail_to = web@example.org
            """)
        #expect(notifier.record(sampleEvent(guest: "db1")) == .disabled)
        if case .spooled = notifier.record(sampleEvent(guest: "web1")) {} else { Issue.record("web1 has a target") }
    }

    @Test("a broken configuration still spools (the event waits for the fix) and the flush says why")
    func brokenConfiguration() async throws {
        let scratch = try Scratch("broken")
        let config = try scratch.file(
            "vmmanager.conf",
            """
            [notify]
            mail_to = a@example.org
            spool_dir = \(scratch.path)/spool
            smtp_starttls = sometimes
            """)
        let notifier = Notifier.load(configPath: config)
        #expect(notifier.configurationError?.key == "smtp_starttls")
        guard case .spooled = notifier.record(sampleEvent()) else {
            Issue.record("a configuration error lost the event")
            return
        }
        let report = await notifier.deliverPending()
        #expect(report.remaining == 1 && !report.allDelivered)
        #expect(report.configurationErrors.contains { $0.contains("smtp_starttls") })
    }

    @Test("events are listed oldest first")
    func order() throws {
        let scratch = try Scratch("order")
        let (notifier, _) = try scratch.notifier(Self.downConfig(scratch))
        var events: [TransitionEvent] = []
        for i in 0..<5 {
            var e = sampleEvent(reason: "\(i)")
            e.timestamp = Date(timeIntervalSince1970: 1_700_000_000 + Double(5 - i))
            events.append(e)
            notifier.record(e)
        }
        let listed = notifier.pending().compactMap { try? $0.content.get().event.reason }
        #expect(listed == ["4", "3", "2", "1", "0"])
    }
}

@Suite("Transition history")
struct HistoryTests {
    @Test("each recorded guest event is kept in the guest's history, delivered or not, newest last")
    func history() async throws {
        let scratch = try Scratch("history")
        let (notifier, _) = try scratch.notifier(try SpoolTests.downConfig(scratch))
        for i in 0..<12 { notifier.record(sampleEvent(guest: i % 3 == 0 ? "db1" : "web1", reason: "r\(i)")) }
        let web1 = notifier.history(guest: "web1", limit: 5)
        #expect(web1.map(\.reason) == ["r5", "r7", "r8", "r10", "r11"])
        #expect(notifier.history(guest: "db1").map(\.reason) == ["r0", "r3", "r6", "r9"])
        #expect(notifier.history(guest: "nobody").isEmpty)
        let t = Transition(web1[0])
        #expect(t.kind == "up" && t.guest == "web1" && t.bootWaitDuration == .milliseconds(5200))
        #expect(t.migrationDowntimeMilliseconds == 12 && t.previousState == "shut off (saved)")
    }
}
