import Foundation
import IntegrationSupport
import Libvirt
import Testing
import VMManager

/// vmctl against libvirt's test driver: `test:///default` (one running guest, "test") or a `test:///FILE`
/// node description. No daemon is needed, so these always run.
@Suite("vmctl without a daemon (test driver)")
struct DaemonlessTests {
    static let listKeys: Set<String> = [
        "identity", "managedSave", "name", "node", "persistent", "reason", "savedImage", "state",
        "uptimeSeconds", "uuid",
    ]
    static let statusKeys: Set<String> = [
        "config", "guestAgent", "identity", "lastTransitions", "managedSave",
        "name", "node", "persistent", "readiness", "reason", "savedImages", "savedState",
        "running", "settingsFile", "state", "uptimeSeconds", "uuid",
    ]
    static let readinessKeys: Set<String> = ["detail", "policy", "probe", "ready", "source"]
    static let savedImageKeys: Set<String> = [
        "ageSeconds", "generation", "kind", "path", "savedAt", "savedOn",
        "sizeBytes", "verdict", "why",
    ]

    /// alpha: shut off with a managed-save image and two disks (one missing); beta: running, same MAC as
    /// alpha; gamma: shut off, identity derived from its name.
    func host(_ dir: String) throws -> TestDriverHost {
        _ = FileManager.default.createFile(atPath: "\(dir)/present.img", contents: Data("disk".utf8))
        let gammaUUID = StableIdentity.uuid(forName: "gamma")
        return try TestDriverHost(
            in: dir,
            domains: [
                TestDriverHost.domain(
                    "alpha", uuid: "11111111-2222-3333-4444-555555555555", macs: ["52:54:00:11:22:33"],
                    disks: ["\(dir)/present.img", "\(dir)/missing.img"], shutOff: true,
                    managedSave: true),
                TestDriverHost.domain("beta", macs: ["52:54:00:11:22:33"]),
                TestDriverHost.domain(
                    "gamma", uuid: gammaUUID.lowercasedString,
                    macs: [StableIdentity.mac(for: gammaUUID, interfaceIndex: 0).description],
                    shutOff: true, agentChannel: true),
            ])
    }

    // MARK: - list

    @Test("list --all prints a table with state, uptime, saved image, identity and node, without colours when piped")
    func listTable() throws {
        let r = try vmctl("--connect", "test:///default", "list", "--all")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.first?.split(separator: " ", omittingEmptySubsequences: true)
                == ["NAME", "STATE", "UPTIME", "SAVED", "IDENTITY", "NODE"])
        let row = try #require(lines.first { $0.hasPrefix("test ") })
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        #expect(row.contains("running (unknown)"))
        #expect(row.contains("explicit"))
        #expect(row.hasSuffix(host) || row.contains(host), "node column: \(row)")
        #expect(!hasColour(r.stdout))
    }

    @Test("list shows managed-save images and tells derived identities from explicit ones")
    func listStatesAndIdentity() throws {
        let dir = try scratchDirectory("ctl-list")
        let h = try host(dir)
        let all = try vmctl("-c", h.uri, "list", "--all", "--json")
        #expect(all.status == 0, "\(all.stderr)")
        let rows = try array(all.stdout)
        #expect(rows.map { $0["name"] as? String } == ["alpha", "beta", "gamma"])
        for row in rows { #expect(Set(row.keys) == Self.listKeys) }
        let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as! String, $0) })
        #expect(byName["alpha"]?["managedSave"] as? Bool == true)
        #expect(byName["alpha"]?["state"] as? String == "shut off")
        #expect(byName["alpha"]?["identity"] as? String == "explicit")
        #expect(byName["gamma"]?["identity"] as? String == "derived")
        #expect(byName["beta"]?["managedSave"] as? Bool == false)
        #expect(byName["beta"]?["uptimeSeconds"] is NSNull, "no guest agent: uptime is null, not missing")
        #expect((byName["beta"]?["node"] as? String)?.isEmpty == false)

        let running = try vmctl("-c", h.uri, "list", "--json")
        #expect(try array(running.stdout).map { $0["name"] as? String } == ["beta"])

        let table = try vmctl("-c", h.uri, "list", "--all")
        let alpha = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("alpha") })
        // libvirt's test driver keeps no image file in managed_save_dir: the image cannot be judged.
        #expect(alpha.contains("shut off") && alpha.contains(" unknown ") && alpha.contains("explicit"), "\(alpha)")
        #expect(byName["alpha"]?["savedImage"] as? String == "unknown")
        #expect(byName["beta"]?["savedImage"] is NSNull)
        let gamma = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("gamma") })
        #expect(gamma.contains("derived") && gamma.contains(" - "))
    }

    @Test("states are coloured on a terminal only, and NO_COLOR turns colours off there too")
    func coloursOnATerminalOnly() throws {
        let command = "\(try vmctlBinary) --connect test:///default list --all"
        let tty = try run(
            "/usr/bin/script", ["-qec", command, "/dev/null"], environment: testEnvironment(["TERM": "xterm"]))
        #expect(tty.status == 0, "\(tty.stdout) \(tty.stderr)")
        #expect(tty.stdout.contains("\u{1B}[32mrunning (unknown)\u{1B}[0m"), "\(tty.stdout.debugDescription)")
        let noColour = try run(
            "/usr/bin/script", ["-qec", command, "/dev/null"],
            environment: testEnvironment(["TERM": "xterm", "NO_COLOR": "1"]))
        #expect(noColour.stdout.contains("running (unknown)") && !hasColour(noColour.stdout))
        let json = try run(
            "/usr/bin/script", ["-qec", command + " --json", "/dev/null"],
            environment: testEnvironment(["TERM": "xterm"]))
        #expect(json.stdout.contains("\"state\" : \"running\"") && !hasColour(json.stdout))
    }

    // MARK: - status

    @Test("status --json of a running guest: every documented key, readiness by the policy, exit 0")
    func statusRunning() throws {
        let dir = try scratchDirectory("ctl-status")
        let config = try writeConfig("# empty\n", in: dir)
        let r = try vmctl("--connect", "test:///default", "status", "test", "--json", "--config", config)
        #expect(r.status == 0, "\(r.stderr)")
        let report = try object(r.stdout)
        #expect(Set(report.keys) == Self.statusKeys)
        #expect(report["state"] as? String == "running")
        #expect(report["running"] as? Bool == true)
        #expect((report["savedImages"] as? [Any])?.isEmpty == true)
        #expect(report["lastTransitions"] as? [Any] != nil && (report["lastTransitions"] as! [Any]).isEmpty)
        #expect(report["settingsFile"] as? String == config)
        let readiness = try #require(report["readiness"] as? [String: Any])
        #expect(Set(readiness.keys) == Self.readinessKeys)
        #expect(readiness["policy"] as? String == "auto")
        #expect(readiness["probe"] as? String == "none", "the test guest has no agent channel: auto means no wait")
        #expect(readiness["ready"] as? Bool == true)

        let text = try vmctl("--connect", "test:///default", "status", "test", "--config", config)
        #expect(text.status == 0)
        #expect(text.stdout.contains("state:") && text.stdout.contains("running (unknown)"))
        #expect(text.stdout.contains("last transitions: none recorded"))
        #expect(!hasColour(text.stdout))
    }

    @Test("status judges readiness by the guest's policy from --config: a closed TCP port is not ready")
    func statusReadinessFromSettings() throws {
        let dir = try scratchDirectory("ctl-status-tcp")
        let config = try writeConfig("[guest test]\nreadiness = tcp:127.0.0.1:1\n", in: dir)
        let r = try vmctl("-c", "test:///default", "status", "test", "--json", "--config", config)
        #expect(r.status == 0, "\(r.stderr)")
        let readiness = try #require(try object(r.stdout)["readiness"] as? [String: Any])
        #expect(readiness["policy"] as? String == "tcp:127.0.0.1:1")
        #expect(readiness["ready"] as? Bool == false)
        #expect((readiness["source"] as? String)?.hasPrefix(config + ":2") == true, "\(readiness)")
        #expect((readiness["detail"] as? String)?.contains("refused") == true, "\(readiness)")
    }

    @Test("status exits 7 for a defined guest that is not running, 2 for none, 6 for a broken --config")
    func statusExitCodes() throws {
        let dir = try scratchDirectory("ctl-status-codes")
        let h = try host(dir)
        let config = try writeConfig("# empty\n", in: dir)
        let stopped = try vmctl("-c", h.uri, "status", "alpha", "--json", "--config", config)
        #expect(stopped.status == 7, "\(stopped.stderr)")
        let report = try object(stopped.stdout)
        #expect(report["running"] as? Bool == false)
        #expect(report["managedSave"] as? Bool == true)
        #expect(report["state"] as? String == "shut off")
        // libvirt's test driver keeps no image file: the image cannot be judged, and status says why.
        let images = try #require(report["savedImages"] as? [[String: Any]])
        #expect(images.count == 1 && Set(images[0].keys) == Self.savedImageKeys, "\(images)")
        #expect(images.first?["verdict"] as? String == "unknown")
        #expect((images.first?["why"] as? String)?.contains("managed_save_dir") == true, "\(images)")

        let missing = try vmctl("-c", h.uri, "status", "nosuch", "--config", config)
        #expect(missing.status == 2)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr.contains("no guest named 'nosuch'"))

        let broken = try writeConfig("[guest beta]\nreadiness = sometimes\n", in: dir, name: "broken.conf")
        let bad = try vmctl("-c", h.uri, "status", "beta", "--config", broken)
        #expect(bad.status == 6, "\(bad.stderr)")
        #expect(bad.stderr.contains("broken.conf:2: readiness"), "\(bad.stderr)")
        let absent = try vmctl("-c", h.uri, "status", "beta", "--config", "\(dir)/absent.conf")
        #expect(absent.status == 6, "\(absent.stderr)")
    }

    // MARK: - undefine

    @Test("undefine refuses a running guest and a managed-save image without --force (exit 5), then removes both")
    func undefineSafety() throws {
        let dir = try scratchDirectory("ctl-undefine")
        let h = try host(dir)
        let xml = "\(dir)/alpha.xml"
        try "<domain/>".write(toFile: xml, atomically: true, encoding: .utf8)
        let config = try writeConfig(
            """
            [global]
            lock_dir = \(dir)/locks
            [guest alpha]
            config = \(xml)
            """, in: dir)
        let running = try vmctl("-c", h.uri, "undefine", "beta", "--config", config)
        #expect(running.status == 5)
        #expect(running.stderr.contains("refusing to undefine a running guest"))

        let saved = try vmctl("-c", h.uri, "undefine", "alpha", "--config", config)
        #expect(saved.status == 5)
        #expect(saved.stderr.contains("managed-save image") && saved.stderr.contains("--force"))

        let forced = try vmctl("-c", h.uri, "undefine", "alpha", "--force", "--config", config)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.contains("alpha: undefined, managed-save image removed"))
        #expect(forced.stdout.contains("its XML \(xml) is kept"))
        #expect(FileManager.default.fileExists(atPath: xml))

        let plain = try vmctl("-c", h.uri, "undefine", "gamma", "--config", config)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout == "gamma: undefined\n")
        #expect(try vmctl("-c", h.uri, "undefine", "nosuch", "--config", config).status == 2)
    }

    @Test("undefine waits for the guest's lock, as the agent does, and gives up with exit 4")
    func undefineTakesTheGuestLock() async throws {
        let dir = try scratchDirectory("ctl-undefine-lock")
        let h = try host(dir)
        let config = try writeConfig("[global]\nlock_dir = \(dir)/locks\n", in: dir)
        let lock = try await FileLock.acquire(
            guest: "gamma", directory: "\(dir)/locks", timeout: .seconds(1),
            purpose: "test holding the lock")
        let busy = try vmctl("-c", h.uri, "undefine", "gamma", "--config", config, "--timeout", "0.5")
        #expect(busy.status == 4, "\(busy.stderr)")
        #expect(busy.stderr.contains("busy") && busy.stderr.contains("test holding the lock"), "\(busy.stderr)")
        lock.release()
        let free = try vmctl("-c", h.uri, "undefine", "gamma", "--config", config, "--timeout", "0.5")
        #expect(free.status == 0, "\(free.stderr)")
    }

    // MARK: - wait-boot

    @Test(
        "wait-boot: ready at once with no probe, exit 4 at the deadline, 6 for exec: on a VM, 1 when not running, 64 for a bad probe"
    )
    func waitBootExitCodes() throws {
        let dir = try scratchDirectory("ctl-wait")
        let h = try host(dir)
        let config = try writeConfig("# empty\n", in: dir)
        let none = try vmctl("-c", h.uri, "wait-boot", "beta", "--probe", "none", "--config", config)
        #expect(none.status == 0, "\(none.stderr)")
        #expect(none.stdout.hasPrefix("beta: ready (none)"))

        let clock = ContinuousClock()
        let started = clock.now
        let closed = try vmctl("-c", h.uri, "wait-boot", "beta", "--probe", "tcp:127.0.0.1:1", "--timeout", "1")
        #expect(closed.status == 4, "\(closed.stderr)")
        #expect(clock.now - started < .seconds(5))
        #expect(closed.stderr.contains("not ready (tcp:127.0.0.1:1) within 1.0 s"), "\(closed.stderr)")

        // exec: for a guest whose namespaces libvirt cannot open (no container): a policy it cannot meet, said
        // at once, not at the deadline.
        let notContainer = try vmctl("-c", h.uri, "wait-boot", "beta", "--probe", "exec:true", "--timeout", "30")
        #expect(notContainer.status == 6, "\(notContainer.stderr)")
        #expect(notContainer.stderr.contains("runs inside a container"), "\(notContainer.stderr)")
        #expect(clock.now - started < .seconds(15))

        let stopped = try vmctl("-c", h.uri, "wait-boot", "alpha", "--config", config)
        #expect(stopped.status == 1)
        #expect(stopped.stderr.contains("not running"))
        #expect(try vmctl("-c", h.uri, "wait-boot", "beta", "--probe", "sometimes").status == 64)
        #expect(try vmctl("-c", h.uri, "wait-boot", "nosuch").status == 2)
    }

    // MARK: - events

    @Test("events stops cleanly on Ctrl-C and on SIGTERM (exit 0)", arguments: [SIGINT, SIGTERM])
    func eventsStopCleanly(signal: Int32) async throws {
        let events = try Background(["--connect", "test:///default", "events", "--json"])
        try await events.waitUntil("the watch to start") { events.stderr.contains("vmctl: watching all guests") }
        let status = try await events.stop(with: signal)
        #expect(status == 0, "stderr: \(events.stderr)")
        #expect(events.stdout.isEmpty)
    }

    @Test(
        "watch stops cleanly on SIGTERM and on Ctrl-C (exit 0): the watcher, then the spool flusher",
        arguments: [SIGTERM, SIGINT])
    func watchStopsCleanly(signal: Int32) async throws {
        let dir = try scratchDirectory("ctl-watch")
        let config = try writeConfig("[notify]\nspool_dir = \(dir)/spool\n", in: dir)
        let watch = try Background([
            "watch", "--connect", "test:///default", "--config", config,
            "--flush-interval", "1", "-v",
        ])
        try await watch.waitUntil("the watch to start") { watch.stderr.contains("watching libvirt events") }
        let status = try await watch.stop(with: signal)
        #expect(status == 0, "stderr: \(watch.stderr)")
        let stderr = watch.stderr
        let watcherStopped = try #require(stderr.range(of: "stopped watching libvirt events"), "\(stderr)")
        let flusherStopped = try #require(stderr.range(of: "spool flusher stopped"), "\(stderr)")
        #expect(watcherStopped.lowerBound < flusherStopped.lowerBound, "\(stderr)")
        #expect(!stderr.contains("error") && !stderr.contains("not deregistered"), "\(stderr)")
    }

    // MARK: - check

    @Test("check reports a shared MAC, a peer with another UUID, a missing disk and a missing agent channel; exit 1")
    func checkFindsProblems() throws {
        let dir = try scratchDirectory("ctl-check")
        let h = try host(dir)
        let peer = try TestDriverHost(
            in: dir, name: "peer.xml",
            domains: [
                TestDriverHost.domain(
                    "alpha", uuid: "11111111-2222-3333-4444-666666666666", macs: ["52:54:00:11:22:33"])
            ])
        let config = try writeConfig(
            """
            [global]
            peers = \(peer.uri), qemu+unix:///system?socket=\(dir)/no-such-socket
            [guest alpha]
            readiness = guest-agent
            """, in: dir)
        let r = try vmctl("-c", h.uri, "check", "--config", config, "--peer-timeout", "2")
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        func has(_ level: String, _ subject: String, _ text: String) -> Bool {
            lines.contains { $0.hasPrefix(level) && $0.contains("\(subject):") && $0.contains(text) }
        }
        #expect(has("OK", "config", "parses"))
        #expect(has("FAIL", "alpha", "52:54:00:11:22:33") && has("FAIL", "beta", "52:54:00:11:22:33"))
        #expect(has("FAIL", "alpha", "identity differs on peer \(peer.uri)"))
        #expect(has("FAIL", "alpha", "missing.img"))
        #expect(has("OK", "alpha", "1 disk source(s) reachable"))
        #expect(has("FAIL", "alpha", "readiness guest-agent needs"))
        #expect(has("OK", "gamma", "identity pinned (derived from the name)"))
        #expect(has("OK", "gamma", "not defined on peer"))
        #expect(has("WARN", "peer qemu+unix", "unreachable"))
        // alpha's managed-save image (the test driver's) is not in managed_save_dir: start would refuse it.
        #expect(has("FAIL", "alpha", "saved images cannot be judged"))
        #expect(lines.last?.hasSuffix("6 failure(s)") == true, "\(lines.last ?? "")")

        let findings = try array(try vmctl("-c", h.uri, "check", "--config", config, "--json").stdout)
        #expect(findings.allSatisfy { Set($0.keys) == ["level", "message", "subject"] })
        #expect(findings.filter { $0["level"] as? String == "FAIL" }.count == 6)
    }

    @Test("check exits 0 when nothing failed, even with warnings")
    func checkPasses() throws {
        let dir = try scratchDirectory("ctl-check-ok")
        let gammaUUID = StableIdentity.uuid(forName: "gamma")
        let gamma = TestDriverHost.domain(
            "gamma", uuid: gammaUUID.lowercasedString,
            macs: [StableIdentity.mac(for: gammaUUID, interfaceIndex: 0).description],
            agentChannel: true)
        let h = try TestDriverHost(in: dir, domains: [gamma])
        let peer = try TestDriverHost(in: dir, name: "peer.xml", domains: [gamma])
        let xml = "\(dir)/gamma.xml"
        // The file as an admin writes it: no UUID, no MAC; vmmanager derives the ones defined above.
        try """
        <domain type='test'><name>gamma</name><memory>65536</memory><os><type>hvm</type></os>
        <devices><interface type='user'/>
        <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel></devices></domain>
        """.write(toFile: xml, atomically: true, encoding: .utf8)
        let config = try writeConfig(
            """
            [global]
            peers = \(peer.uri), qemu+unix:///system?socket=\(dir)/no-such-socket
            [guest gamma]
            config = \(xml)
            readiness = guest-agent
            """, in: dir)
        let r = try vmctl("-c", h.uri, "check", "--config", config, "--peer-timeout", "2")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("identity pinned (derived)"), "\(r.stdout)")
        #expect(r.stdout.contains("same UUID and MACs on peer \(peer.uri)"))
        #expect(r.stdout.contains("WARN") && !r.stdout.contains("FAIL"))
    }

    @Test("check names the file and line of a configuration error; exit 3 when libvirt is unreachable")
    func checkConfigurationErrorsAndUnreachableHost() throws {
        let dir = try scratchDirectory("ctl-check-bad")
        let config = try writeConfig("[global]\nstop_methods = save,nap\n", in: dir)
        let bad = try vmctl("-c", "test:///default", "check", "--config", config)
        #expect(bad.status == 1)
        #expect(
            bad.stdout.contains("FAIL  config:") && bad.stdout.contains("vmmanager.conf:2: stop_methods"),
            "\(bad.stdout)")

        let good = try writeConfig("# empty\n", in: dir, name: "empty.conf")
        let down = try vmctl("-c", "qemu+unix:///system?socket=\(dir)/no-such-socket", "check", "--config", good)
        #expect(down.status == 3, "\(down.stdout)\(down.stderr)")
        #expect(down.stdout.contains("FAIL  libvirt:"))
        #expect(down.stdout.contains("OK    config:"), "the configuration is still checked")
    }

    // MARK: - help, usage, generated files

    static let subcommands: [String] = {
        guard let r = try? vmctl("--experimental-dump-help"),
            let tree = try? object(r.stdout), let command = tree["command"] as? [String: Any],
            let subs = command["subcommands"] as? [[String: Any]]
        else { return [] }
        return subs.compactMap { $0["commandName"] as? String }.filter { $0 != "help" }
    }()

    @Test("every command's --help has examples")
    func helpHasExamples() throws {
        #expect(Self.subcommands.count >= 14, "\(Self.subcommands)")
        for name in [[]] + Self.subcommands.map({ [$0] }) {
            let r = try vmctl(name + ["--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("Example"), "vmctl \(name.joined()) --help has no examples")
        }
    }

    @Test("--version prints the package's version")
    func version() throws {
        let r = try vmctl("--version")
        #expect(r.status == 0)
        #expect(r.stdout == "vmctl \(vmmanagerVersion)\n", "\(r.stdout)")
    }

    @Test("a usage error exits 64")
    func usageError() throws {
        let r = try vmctl("list", "--colour")
        #expect(r.status == 64)
        #expect(r.stderr.contains("Unknown option '--colour'"))
    }

    @Test(
        "the committed completion scripts are what the current commands generate (run scripts/generate-docs.sh)",
        arguments: [("bash", "vmctl.bash"), ("zsh", "_vmctl"), ("fish", "vmctl.fish")])
    func completionScriptsAreCurrent(shell: String, file: String) throws {
        let generated = try vmctl("--generate-completion-script", shell)
        #expect(generated.status == 0)
        let committed = try String(contentsOfFile: "\(packageRoot)/Resources/completions/\(file)", encoding: .utf8)
        #expect(generated.stdout == committed, "Resources/completions/\(file) is stale: run scripts/generate-docs.sh")
        for name in Self.subcommands { #expect(committed.contains(name), "\(file) does not complete \(name)") }
    }

    @Test("bash completes guest names from the host named by --connect")
    func bashCompletesGuestNames() throws {
        let script = """
            PATH=\(URL(fileURLWithPath: try vmctlBinary).deletingLastPathComponent().path):$PATH
            source \(packageRoot)/Resources/completions/vmctl.bash
            COMP_WORDS=(vmctl status -c test:///default t); COMP_CWORD=4
            COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
            COMPREPLY=(); _vmctl; echo "${COMPREPLY[*]}"
            COMP_WORDS=(vmctl wa); COMP_CWORD=1; COMP_LINE="vmctl wa"; COMP_POINT=8
            COMPREPLY=(); _vmctl; echo "${COMPREPLY[*]}"
            """
        let r = try run("/bin/bash", ["-c", script], environment: testEnvironment())
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "test", "guest names from test:///default: \(r.stdout) \(r.stderr)")
        #expect(lines.last?.split(separator: " ").contains("wait-boot") == true, "\(r.stdout)")
    }

    @Test("the man page documents every command and the exit codes")
    func manPageIsCurrent() throws {
        let page = try String(contentsOfFile: "\(packageRoot)/Resources/man/vmctl.8", encoding: .utf8)
        for name in Self.subcommands {
            #expect(page.contains(".It Em \(name)\n"), "vmctl.8 lacks \(name): run scripts/generate-docs.sh")
        }
        #expect(page.contains(".Sh EXIT STATUS") && page.contains(".It 64"))
    }

    @Test("docs/vmctl.md documents every command")
    func docsCoverEveryCommand() throws {
        let doc = try String(contentsOfFile: "\(packageRoot)/docs/vmctl.md", encoding: .utf8)
        let headings = doc.split(separator: "\n").filter { $0.hasPrefix("## ") }
        for name in Self.subcommands {
            #expect(
                headings.contains { $0.contains("`vmctl \(name)`") }, "docs/vmctl.md has no section for vmctl \(name)")
        }
    }
}
