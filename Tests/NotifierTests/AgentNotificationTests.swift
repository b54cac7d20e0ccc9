import Foundation
import IntegrationSupport
import Testing
import VMManager

/// The resource agent's transitions, through the notifier, to a real SMTP server: start and stop of a real
/// guest produce the two messages with the right fields.
@Suite("Agent transitions by mail", .serialized, .enabled(if: testbedEnvFile != nil, "needs the testbed (make test)"))
struct AgentNotificationTests {
    static let guest = "nt-agent"

    /// Runs the agent as Pacemaker's executor would, in its own PID namespace (as the agent's own tests do).
    static func ocf(_ action: String, _ parameters: [String: String]) throws -> CommandResult {
        var env = [
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf", "OCF_RA_VERSION_MAJOR": "1",
            "OCF_RA_VERSION_MINOR": "1", "OCF_RESOURCE_INSTANCE": guest, "OCF_RESKEY_CRM_meta_timeout": "90000",
        ]
        for (k, v) in parameters { env["OCF_RESKEY_\(k)"] = v }
        env.merge(sanitizerEnvironment) { $1 }
        return try run(
            "/usr/bin/unshare", ["--pid", "--fork", "--kill-child", "--", agentPath, action], environment: env)
    }

    @Test("an agent start and stop of a real guest give an 'up' and a 'down' mail with the guest's fields")
    func startAndStop() async throws {
        let scratch = try Scratch("agent")
        let smtp = try SMTPServer(in: scratch)
        let config = try scratch.file(
            "vmmanager.conf",
            """
            [notify]
            mail_to = admins@example.org
            smtp_url = smtp://127.0.0.1:\(smtp.port)
            smtp_starttls = no
            spool_dir = \(scratch.path)/spool
            """, mode: 0o644)
        _ = try WatcherTests.virshRun(["destroy", Self.guest])
        _ = try WatcherTests.virshRun(["undefine", Self.guest, "--managed-save"])
        defer {
            _ = try? WatcherTests.virshRun(["destroy", Self.guest])
            _ = try? WatcherTests.virshRun(["undefine", Self.guest, "--managed-save"])
        }
        let xml = try run("/bin/bash", ["\(packageRoot)/testbed/guest/domain-xml.sh", Self.guest])
        try scratch.file("\(Self.guest).xml", xml.stdout)
        let parameters = [
            "config": "\(Self.guest).xml", "vm_dir": scratch.path, "state_dir": "\(scratch.path)/state",
            "lock_dir": "\(scratch.path)/locks", "quarantine_dir": "\(scratch.path)/quarantine",
            "conf_file": config,
        ]

        let start = try Self.ocf("start", parameters)
        try #require(start.status == 0, "\(start.stderr)")
        let stop = try Self.ocf("stop", parameters)
        try #require(stop.status == 0, "\(stop.stderr)")
        // The agent's detached flushes die with its PID namespace here; a flush delivers what they could not.
        let flush = try run(vmctlPath, ["notify", "flush", "--config", config])
        #expect(flush.status == 0, "\(flush.stdout)")

        let mails = await smtp.waitForMessages(2)
        try #require(mails.count == 2, "\(mails.map(\.subject))")
        let host = TransitionEvent.localNode
        let up = try #require(
            mails.first { $0.subject == "Virtual machine \(Self.guest) up on \(host)" },
            "\(mails.map(\.subject))")
        let down = try #require(
            mails.first { $0.subject == "Virtual machine \(Self.guest) down on \(host)" },
            "\(mails.map(\.subject))")
        #expect(up.body.contains("Virtual Machine: \(Self.guest)\n"))
        #expect(up.body.contains("Status: up - running (booted)\n"), "\(up.body)")
        #expect(up.body.contains("Config: \(scratch.path)/\(Self.guest).xml\n"))
        #expect(up.body.contains("Host: \(host)\n"))
        #expect(up.body.contains("Boot wait: "))
        // The guest's own uptime, read through its agent once it answered (the thesis's mails had it).
        #expect(up.body.contains("Uptime: ") && !up.body.contains("Uptime: -"), "\(up.body)")
        #expect(up.body.contains("Source: agent\n"))
        #expect(down.body.contains("Status: down - shut off (saved)\n"), "\(down.body)")
        #expect(down.body.contains("Reason: "))
        #expect(Set(mails.map(\.eventID)).count == 2)
    }
}
