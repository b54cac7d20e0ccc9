import Foundation
import IntegrationSupport
import Testing
import VMManager

/// The agent's interface with no guest involved: meta-data, exit codes, validation.
@Suite("Resource agent interface")
struct AgentInterfaceTests {
    @Test("meta-data works with no environment and validates against resource-agents' ra-api-1.dtd")
    func metaDataValidates() throws {
        let r = try run(agentPath, ["meta-data"], environment: [:])
        #expect(r.status == 0)
        #expect(r.stdout.contains("<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">"))
        #expect(r.stdout.contains("<version>1.1</version>"))
        for name in [
            "config", "hypervisor", "force_stop", "migration_transport", "migration_network_suffix",
            "migrateuri", "migration_downtime", "migration_speed", "snapshot", "save_config_on_stop",
        ] {
            #expect(r.stdout.contains("<parameter name=\"\(name)\""), "missing VirtualDomain parameter \(name)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("md-\(UUID().uuidString).xml").path
        try r.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        let dtd = "/usr/share/resource-agents/ra-api-1.dtd"
        try #require(FileManager.default.fileExists(atPath: dtd), "resource-agents is not installed")
        let lint = try run("/usr/bin/xmllint", ["--noout", "--dtdvalid", dtd, file])
        #expect(lint.status == 0, "\(lint.stderr)")
    }

    @Test("--version prints the version that the meta-data carries, with or without an OCF environment")
    func version() throws {
        let plain = try run(agentPath, ["--version"], environment: [:])
        #expect(plain.status == 0)
        #expect(plain.stdout == "vmmanager \(vmmanagerVersion)\n", "\(plain.stdout)")
        let ocf = try runOCF("--version", [:])
        #expect(ocf.status == 0 && ocf.stdout == plain.stdout, "\(ocf.stdout)\(ocf.stderr)")
        let metaData = try run(agentPath, ["meta-data"], environment: [:])
        #expect(metaData.stdout.contains("<resource-agent name=\"guest\" version=\"\(vmmanagerVersion)\">"))
    }

    @Test("exit codes follow VirtualDomain for the same situations")
    func exitCodes() throws {
        let dir = try scratchDirectory("codes")
        try "".write(toFile: "\(dir)/empty.conf", atomically: true, encoding: .utf8)
        let base = ["state_dir": "\(dir)/state", "lock_dir": "\(dir)/locks", "conf_file": "\(dir)/empty.conf"]
        // No config and no domain: OCF_ERR_CONFIGURED.
        #expect(try runOCF("validate-all", base).status == 6)
        // A config file that does not exist: OCF_ERR_INSTALLED.
        var missing = base
        missing["config"] = "\(dir)/nope.xml"
        let r = try runOCF("validate-all", missing)
        #expect(r.status == 5)
        #expect(r.stderr.contains("ocf-exit-reason:") && r.stderr.contains("nope.xml"))
        // A probe of a guest that was never started here: not running. Stop of it: success.
        #expect(try runOCF("monitor", missing, meta: ["interval": "0"]).status == 7)
        #expect(try runOCF("stop", missing).status == 0)
        // An XML that does not parse: OCF_ERR_CONFIGURED.
        var broken = base
        try "<domain><name>x</name".write(toFile: "\(dir)/broken.xml", atomically: true, encoding: .utf8)
        broken["config"] = "\(dir)/broken.xml"
        #expect(try runOCF("validate-all", broken).status == 6)
        // Bad values: OCF_ERR_CONFIGURED, naming the parameter.
        var bad = base
        bad["domain"] = "x"
        bad["readiness"] = "tpc:80"
        let badReadiness = try runOCF("validate-all", bad)
        #expect(badReadiness.status == 6 && badReadiness.stderr.contains("OCF_RESKEY_readiness"))
        bad["readiness"] = "auto"
        bad["force_stop"] = "maybe"
        #expect(try runOCF("validate-all", bad).status == 6)
        // Anything else: OCF_ERR_UNIMPLEMENTED.
        #expect(try runOCF("promote", base).status == 3)
        #expect(try runOCF("notify", base).status == 3)
    }

    @Test("a configuration error names the file, the line and the key")
    func configurationErrorsArePrecise() throws {
        let dir = try scratchDirectory("conf")
        try """
        [global]
        hypervisor = qemu:///system

        [guest web1]
        readiness = guest-agent
        stop_method = save
        """.write(toFile: "\(dir)/vmmanager.conf", atomically: true, encoding: .utf8)
        let r = try runOCF("validate-all", ["domain": "web1", "conf_file": "\(dir)/vmmanager.conf"])
        #expect(r.status == 6)
        #expect(r.stderr.contains("vmmanager.conf:6: stop_method:"), "\(r.stderr)")
    }

    @Test("heartbeat status prints only the word heartbeat greps for, even when things are wrong")
    func heartbeatStatusWords() throws {
        let dir = try scratchDirectory("hbwords")
        let r = try runHeartbeat(
            [
                "no-such-guest", "state_dir=\(dir)", "conf_file=\(dir)/none.conf",
                "hypervisor=test:///default",
            ], "status")
        #expect(r.stdout == "stopped\n", "\(r.stdout)")
        #expect(r.stderr.contains("none.conf"))  // the explicit file is missing: said on stderr, never on stdout
        let bad = try runHeartbeat(["x", "notakeyvalue"], "status")
        #expect(bad.stdout == "stopped\n")
    }
}

extension AgentInterfaceTests {
    /// Parameters of a guest that does not exist, on test:///, whose `conf_file` has a line that is no setting
    /// (line 2 of `bad.conf`).
    static func brokenConfiguration(_ label: String) throws -> [String: String] {
        let dir = try scratchDirectory(label)
        try "[global]\nthis is not a setting\n".write(toFile: "\(dir)/bad.conf", atomically: true, encoding: .utf8)
        return [
            "domain": "no-such-guest", "conf_file": "\(dir)/bad.conf", "state_dir": "\(dir)/state",
            "lock_dir": "\(dir)/locks", "hypervisor": "test:///default",
        ]
    }

    @Test("stop and monitor stay exact when the configuration file is broken")
    func brokenConfigurationDoesNotMakeStopLie() throws {
        let p = try Self.brokenConfiguration("brokenconf")
        #expect(try runOCF("start", p).status == 6)
        let stop = try runOCF("stop", p)
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(stop.stderr.contains("bad.conf:2"))
        #expect(try runOCF("monitor", p).status == 7)
    }
}

extension AgentInterfaceTests {
    /// The part of a usage line between its braces, split at `|`.
    static func braced(_ line: Substring) -> [String] {
        guard let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") else { return [] }
        return line[line.index(after: open)..<close].split(separator: "|").map(String.init)
    }

    @Test("every action of the table is dispatched by its faces, and is in the meta-data and the usage it belongs to")
    func actionTable() throws {
        // Every action stops early (6), or goes on leniently against test:/// (stop, monitor).
        let p = try Self.brokenConfiguration("actions")
        let metaData = try run(agentPath, ["meta-data"], environment: [:]).stdout
        let ocfUsage = try runOCF("usage", [:])
        #expect(ocfUsage.status == 0)
        #expect(Self.braced(ocfUsage.stdout[...]) == AgentAction.advertised.map(\.rawValue), "\(ocfUsage.stdout)")
        let usage = try run(agentPath, [], environment: [:])
        #expect(usage.status == 2)
        let lines = usage.stderr.split(separator: "\n")
        #expect(lines.first.map { Self.braced($0) } == AgentAction.advertised.map(\.rawValue), "\(usage.stderr)")
        let heartbeatLine = try #require(lines.first { $0.contains("vmmanager <guest> [key=value ...] {") })
        #expect(Self.braced(heartbeatLine) == AgentAction.heartbeatListed.map(\.rawValue), "\(usage.stderr)")

        for action in AgentAction.allCases {
            let r = try runOCF(action.rawValue, p)
            #expect(r.status != 3 && !r.stderr.contains("not implemented"), "\(action): \(r.status) \(r.stderr)")
            if let a = action.advertisement {
                var line = "<action name=\"\(action)\" timeout=\"\(a.timeout.components.seconds)s\""
                if let interval = a.interval { line += " interval=\"\(interval.components.seconds)s\"" }
                if let depth = a.depth { line += " depth=\"\(depth)\"" }
                #expect(metaData.contains(line + " />\n"), "\(action) is not in the meta-data as \(line)")
            } else {
                #expect(!metaData.contains("<action name=\"\(action)\""), "\(action) is in the meta-data")
            }
            // Under heartbeat, a bad key=value argument shows that the action was taken; anything else is usage.
            let hb = try runHeartbeat(["x", "notakeyvalue"], action.rawValue)
            if action.heartbeat != nil {
                #expect(
                    hb.stderr.contains("is not key=value") && !hb.stderr.contains("usage:"), "\(action): \(hb.stderr)")
            } else {
                #expect(hb.status == 2 && hb.stderr.contains("usage:"), "\(action) under heartbeat: \(hb.stderr)")
            }
        }
        #expect(metaData.components(separatedBy: "<action ").count - 1 == AgentAction.advertised.count)
    }
}
