import Foundation
import IntegrationSupport
import Testing
import VMManager
import VMManagerDelivery

/// `vmctl notify ...` and `vmctl alert`, run as an admin or Pacemaker would, against real servers.
@Suite("vmctl notify and alert", .serialized)
struct VMCtlNotifyTests {
    static func config(_ scratch: Scratch, smtp: SMTPServer, hook: HTTPReceiver?) throws -> String {
        try scratch.file(
            "vmmanager.conf",
            """
            [notify]
            mail_to = admins@example.org
            smtp_url = smtp://127.0.0.1:\(smtp.port)
            smtp_starttls = no
            \(hook.map { "webhook_url = \($0.url)" } ?? "")
            webhook_retries = 0
            spool_dir = \(scratch.path)/spool
            """, mode: 0o644)
    }

    @Test("notify test sends to every target and says what each answered; exit 1 when one fails")
    func notifyTest() async throws {
        let scratch = try Scratch("cli-test")
        let smtp = try SMTPServer(in: scratch)
        let hook = try HTTPReceiver(in: scratch)
        let config = try Self.config(scratch, smtp: smtp, hook: hook)
        let ok = try run(vmctlPath, ["notify", "test", "--config", config])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        let lines = ok.stdout.split(separator: "\n")
        #expect(
            lines.contains { $0.hasPrefix("mail to admins@example.org via smtp://127.0.0.1:\(smtp.port): accepted") })
        #expect(lines.contains { $0.hasPrefix("webhook \(hook.url): accepted") && $0.hasSuffix("HTTP 200") })
        #expect(await smtp.waitForMessages(1).first?.subject.hasPrefix("vmmanager test on ") == true)
        #expect(hook.records().count == 1)
        // Nothing is spooled by a test.
        let spooled = (try? FileManager.default.contentsOfDirectory(atPath: "\(scratch.path)/spool")) ?? []
        #expect(spooled.allSatisfy { $0.hasPrefix(".") })

        hook.stop()
        let failed = try run(vmctlPath, ["notify", "test", "--config", config, "--guest", "web1"])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("webhook \(hook.url): FAILED"))
        #expect(failed.stdout.contains("mail to admins@example.org via smtp://127.0.0.1:\(smtp.port): accepted"))
        #expect(await smtp.waitForMessages(2).last?.subject.hasPrefix("Virtual machine web1 test on ") == true)
    }

    @Test("a wrong configuration is exit 6 with file, line and key; a missing file is not taken for 'nothing to do'")
    func badConfiguration() throws {
        let scratch = try Scratch("cli-bad")
        let bad = try scratch.file("bad.conf", "[notify]\nmail_to = a@example.org\nsmtp_ur = smtp://x\n", mode: 0o644)
        for command in [["notify", "test"], ["notify", "flush"], ["notify", "list"]] {
            let r = try run(vmctlPath, command + ["--config", bad])
            #expect(r.status == 6, "\(command)")
            #expect(r.stderr.contains("\(bad):3: smtp_ur: unknown key in [notify]"), "\(r.stderr)")
        }
        let missing = try run(vmctlPath, ["notify", "flush", "--config", "\(scratch.path)/none.conf"])
        #expect(missing.status == 6 && missing.stderr.contains("does not exist"))
    }

    @Test("notify list shows what waits and for which target; notify flush empties the spool and exits 0")
    func listAndFlush() async throws {
        let scratch = try Scratch("cli-list")
        let smtp = try SMTPServer(in: scratch)
        let config = try Self.config(scratch, smtp: smtp, hook: nil)
        smtp.stop()
        let notifier = Notifier.load(configPath: config)
        let event = sampleEvent()
        notifier.record(event)
        _ = await notifier.deliverPending()

        let list = try run(vmctlPath, ["notify", "list", "--config", config, "--json"])
        #expect(list.status == 0)
        let rows = try #require(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        try #require(rows.count == 1)
        #expect((rows[0]["event"] as? [String: Any])?["id"] as? String == event.id.uuidString)
        #expect(rows[0]["pending"] as? [String] == ["mail smtp://127.0.0.1:\(smtp.port) admins@example.org"])
        let attempt = (rows[0]["attempts"] as? [String: [String: Any]])?.values.first
        #expect((attempt?["lastError"] as? String)?.contains("onnect") == true)
        let table = try run(vmctlPath, ["notify", "list", "--config", config])
        #expect(table.stdout.contains("Virtual machine web1 up on node1"))

        let stillDown = try run(vmctlPath, ["notify", "flush", "--config", config])
        #expect(stillDown.status == 1 && stillDown.stdout.contains("delivered 0, still spooled 1"))
        try smtp.start()
        let flushed = try run(vmctlPath, ["notify", "flush", "--config", config])
        #expect(flushed.status == 0 && flushed.stdout.contains("delivered 1, still spooled 0"), "\(flushed.stdout)")
        #expect(try run(vmctlPath, ["notify", "list", "--config", config]).stdout.contains("is empty"))
        #expect(await smtp.waitForMessages(1).count == 1)
    }

    @Test("vmctl alert records a lost node and a detached flush mails it")
    func alertNode() async throws {
        let scratch = try Scratch("cli-alert")
        let smtp = try SMTPServer(in: scratch)
        let config = try Self.config(scratch, smtp: smtp, hook: nil)
        let clock = ContinuousClock()
        var r: CommandResult?
        let elapsed = try clock.measure {
            r = try run(
                vmctlPath, ["alert", "--config", config],
                environment: [
                    "CRM_alert_kind": "node", "CRM_alert_node": "node2", "CRM_alert_desc": "lost",
                    "CRM_alert_nodeid": "2",
                    "CRM_alert_version": "2.1.5", "CRM_alert_recipient": "",
                ])
        }
        #expect(r?.status == 0, "\(r?.stderr ?? "")")
        #expect(elapsed < .seconds(2), "the alert agent waited for delivery: \(elapsed)")
        let mail = try #require(await smtp.waitForMessages(1).first)
        #expect(mail.subject == "Cluster node node2 lost (reported by \(TransitionEvent.localNode))")
        #expect(mail.body.contains("Reason: cluster node node2 (node id 2) is now lost"))
        #expect(
            await eventually {
                (try? FileManager.default.contentsOfDirectory(atPath: "\(scratch.path)/spool"))?
                    .allSatisfy { $0.hasPrefix(".") } ?? true
            })
    }

    @Test("alert_vmmanager.sh (as root) and --stdin deliver a failed resource operation; a success is ignored")
    func alertScript() async throws {
        let scratch = try Scratch("cli-script")
        let smtp = try SMTPServer(in: scratch)
        let config = try Self.config(scratch, smtp: smtp, hook: nil)
        let failed = try [
            "CRM_alert_kind": "resource", "CRM_alert_node": "node1", "CRM_alert_rsc": "vm-web1",
            "CRM_alert_task": "monitor", "CRM_alert_interval": "10000", "CRM_alert_rc": "1",
            "CRM_alert_target_rc": "0", "CRM_alert_desc": "error", "PATH": "/usr/bin:/bin",
            "VMCTL": vmctlPath, "VMMANAGER_CONF": config,
        ]
        let script = "\(packageRoot)/Resources/pacemaker/alert_vmmanager.sh"
        let r = try run("/bin/sh", [script], environment: failed)
        #expect(r.status == 0, "\(r.stderr)")
        let mail = try #require(await smtp.waitForMessages(1).first)
        #expect(mail.subject == "Resource vm-web1 monitor-failed on node1")
        #expect(mail.body.contains("Reason: monitor (every 10000 ms) of vm-web1 returned 1, expected 0: error"))

        var ok = failed
        ok["CRM_alert_rc"] = "0"
        #expect(try run("/bin/sh", [script], environment: ok).status == 0)

        // The sudo path: the variables arrive on stdin, NUL-separated, as `env -0` prints them.
        let pairs = [
            "CRM_alert_kind=fencing", "CRM_alert_node=node2", "CRM_alert_rc=0",
            "CRM_alert_desc=Operation reboot of node2 by node1: OK", "NOT_CRM=ignored",
        ]
        let viaStdin = try run(
            vmctlPath, ["alert", "--stdin", "--wait", "--config", config],
            environment: ["PATH": "/usr/bin:/bin"], stdin: Data(pairs.joined(separator: "\0").utf8))
        #expect(viaStdin.status == 0, "\(viaStdin.stderr)")
        let mails = await smtp.waitForMessages(2)
        #expect(mails.count == 2, "the successful operation was notified")
        #expect(mails.contains { $0.subject == "Cluster node node2 fenced (reported by \(TransitionEvent.localNode))" })
    }
}
