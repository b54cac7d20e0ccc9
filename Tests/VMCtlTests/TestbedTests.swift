import Foundation
import IntegrationSupport
import Libvirt
import Testing
import VMManager

/// vmctl against real guests on the testbed (node A, and node B as a peer). Guests are named `it-ctl-*` and
/// removed afterwards.
@Suite("vmctl on real guests", .serialized, .enabled(if: Testbed.isRequested, "run through `make test`"))
struct TestbedTests {
    let testbed: Testbed
    let host: Hypervisor

    init() async throws {
        testbed = try Testbed.load()
        host = try await Hypervisor.connect(testbed.nodeA, timeout: .seconds(60))
    }

    /// A fresh pinned guest, its XML file (as the admin wrote it: no UUID, no MAC) and a settings file in a
    /// scratch directory.
    func guest(_ label: String, settings: String = "") async throws -> (domain: Domain, xml: String, config: String) {
        let dir = try scratchDirectory(label)
        let domain = try await testbed.freshGuest("ctl-\(label)", on: host)
        let xml = "\(dir)/\(domain.name).xml"
        try testbed.guestXML(domain.name).write(toFile: xml, atomically: true, encoding: .utf8)
        let config = try writeConfig(
            """
            [global]
            lock_dir = \(dir)/locks
            state_dir = \(dir)/state
            [guest \(domain.name)]
            config = \(xml)
            \(settings)
            """, in: dir)
        return (domain, xml, config)
    }

    func bootedAndReady(_ d: Domain) async throws {
        try await d.start()
        try await BootWait.waitUntilReady(d, probe: .guestAgent, timeout: .seconds(90))
    }

    @Test("list shows a running guest's uptime (from its agent), its derived identity and the node")
    func listRunningGuest() async throws {
        let g = try await guest("list")
        try await bootedAndReady(g.domain)
        try await Task.sleep(for: .seconds(1))
        let clock = ContinuousClock()
        let started = clock.now
        let r = try vmctl("list", "--json")
        #expect(clock.now - started < .seconds(5), "list must not wait long for guest agents")
        #expect(r.status == 0, "\(r.stderr)")
        let row = try #require(try array(r.stdout).first { $0["name"] as? String == g.domain.name })
        #expect(row["state"] as? String == "running")
        #expect(row["reason"] as? String == "booted")
        #expect((row["uptimeSeconds"] as? Double ?? 0) >= 1, "\(row)")
        #expect(row["identity"] as? String == "derived")
        #expect(row["node"] as? String == (try testbed.value("NODE_A_NAME")))
        #expect(row["uuid"] as? String == StableIdentity.uuid(forName: g.domain.name).lowercasedString)

        // Several runs in a row: the agent answers every time (no answer abandoned mid-way breaks the next).
        for _ in 0..<3 {
            let again = try array(try vmctl("list", "--json").stdout).first { $0["name"] as? String == g.domain.name }
            #expect(again?["uptimeSeconds"] as? Double != nil, "\(String(describing: again))")
        }
        let table = try vmctl("list")
        let line = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix(g.domain.name + " ") })
        #expect(line.contains("running (booted)") && line.contains("derived"))
        try await Testbed.remove(g.domain.name, from: host.connection)
    }

    @Test(
        "status: ready now by the guest-agent policy; after `vmctl save`, exit 7 with the image's place, size, age, node"
    )
    func statusRunningThenSaved() async throws {
        let g = try await guest("status", settings: "readiness = guest-agent")
        try await bootedAndReady(g.domain)
        let running = try vmctl("status", g.domain.name, "--json", "--config", g.config)
        #expect(running.status == 0, "\(running.stderr)")
        let report = try object(running.stdout)
        #expect(report["guestAgent"] as? Bool == true)
        #expect((report["uptimeSeconds"] as? Double ?? 0) > 0)
        #expect(report["config"] as? String == g.xml)
        let readiness = try #require(report["readiness"] as? [String: Any])
        #expect(readiness["policy"] as? String == "guest-agent")
        #expect(readiness["ready"] as? Bool == true, "\(readiness)")
        #expect((readiness["source"] as? String)?.hasPrefix(g.config + ":") == true)

        let save = try vmctl("save", g.domain.name, "--config", g.config)
        #expect(save.status == 0, "\(save.stderr)")
        let saved = try vmctl("status", g.domain.name, "--json", "--config", g.config)
        #expect(saved.status == 7, "\(saved.stderr)")
        let after = try object(saved.stdout)
        #expect(after["state"] as? String == "shut off")
        #expect(after["managedSave"] as? Bool == false, "the image lives beside the XML, not in libvirt's directory")
        let images = try #require(after["savedImages"] as? [[String: Any]])
        let image = try #require(images.first, "\(after)")
        #expect(image["path"] as? String == g.xml.replacingOccurrences(of: ".xml", with: ".state"))
        #expect(image["kind"] as? String == "saved-state")
        #expect(image["verdict"] as? String == "current", "\(image)")
        #expect((image["sizeBytes"] as? Int ?? 0) > 1_000_000, "\(image)")
        #expect((image["ageSeconds"] as? Double ?? 99) < 60)
        #expect(image["savedOn"] as? String == (try testbed.value("NODE_A_NAME")))
        #expect(after["readiness"].flatMap { ($0 as? [String: Any])?["ready"] as? Bool } == false)

        let text = try vmctl("status", g.domain.name, "--config", g.config)
        #expect(text.status == 7)
        #expect(text.stdout.contains("current, the next start restores it"), "\(text.stdout)")
        #expect(text.stdout.contains("MiB"))
        try await Testbed.remove(g.domain.name, from: host.connection)
    }

    @Test("undefine refuses a running guest and a saved one; --force removes the image; the XML file stays")
    func undefineRealGuest() async throws {
        let g = try await guest("undefine")
        try await g.domain.start()
        let running = try vmctl("undefine", g.domain.name, "--config", g.config)
        #expect(running.status == 5, "\(running.stderr)")
        #expect(try await host.connection.domainIfExists(name: g.domain.name) != nil)

        try await g.domain.managedSave()
        let saved = try vmctl("undefine", g.domain.name, "--config", g.config)
        #expect(saved.status == 5)
        #expect(try await g.domain.hasManagedSaveImage(), "the refused undefine kept the image")

        let forced = try vmctl("undefine", g.domain.name, "--force", "--config", g.config)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try await host.connection.domainIfExists(name: g.domain.name) == nil)
        #expect(!FileManager.default.fileExists(atPath: "/var/lib/libvirt/qemu/save/\(g.domain.name).save"))
        #expect(FileManager.default.fileExists(atPath: g.xml))
    }

    @Test("wait-boot returns when the guest agent answers, and by a console line")
    func waitBootRealGuest() async throws {
        let g = try await guest("wait")
        try await g.domain.start()
        let r = try vmctl("wait-boot", g.domain.name, "--timeout", "90", "--config", g.config)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("ready (guest-agent) after"))
        try await g.domain.pingAgent(timeout: .seconds(2))

        let marker = try testbed.value("READY_MARKER")
        let serial = try vmctl(
            "wait-boot", g.domain.name, "--probe", "serial:\(marker)", "--timeout", "10",
            "--config", g.config)
        #expect(serial.status == 0, "\(serial.stderr)")
        let fresh = try vmctl(
            "wait-boot", g.domain.name, "--probe", "serial:\(marker)", "--new-lines",
            "--timeout", "1", "--config", g.config)
        #expect(fresh.status == 4, "no new READY line without a new boot: \(fresh.stderr)")
        try await Testbed.remove(g.domain.name, from: host.connection)
    }

    @Test("events prints a guest's start and stop as they happen, one JSON object per line, and ends on Ctrl-C")
    func eventsOfARealGuest() async throws {
        let g = try await guest("events")
        let events = try Background(["events", g.domain.name, "--json"])
        try await events.waitUntil("the watch to start") { events.stderr.contains("vmctl: watching guest") }
        try await g.domain.start()
        try await g.domain.suspend()
        try await g.domain.resume()
        try await g.domain.destroy()
        try await events.waitUntil("the stopped event") { events.stdout.contains("\"event\":\"stopped\"") }
        let status = try await events.stop(with: SIGINT)
        #expect(status == 0, "\(events.stderr)")
        let lines = try events.stdout.split(separator: "\n").map { try object(String($0)) }
        #expect(lines.allSatisfy { Set($0.keys) == ["detail", "event", "guest", "time", "uuid"] })
        #expect(lines.allSatisfy { $0["guest"] as? String == g.domain.name })
        // In this order; libvirt adds others around them (QEMU starts paused, so "resumed unpaused" comes first;
        // destroy reports "shutdown host"; the guest agent may connect).
        let seen = lines.map { "\($0["event"]!) \($0["detail"]!)" }
        var expected = ["started booted", "suspended paused", "resumed unpaused", "stopped destroyed"][...]
        for event in seen where event == expected.first { expected.removeFirst() }
        #expect(expected.isEmpty, "missing \(Array(expected)) in \(seen)")
        try await Testbed.remove(g.domain.name, from: host.connection)
    }

    @Test(
        "check compares identities with a peer: same on node B is OK, another UUID there fails; random identity fails")
    func checkAgainstNodeB() async throws {
        let nodeB = try await Hypervisor.connect(try testbed.nodeB(), timeout: .seconds(30))
        let g = try await guest("check", settings: "peers = \(try testbed.nodeB())")
        try await Testbed.remove(g.domain.name, from: nodeB.connection)
        _ = try await nodeB.define(xml: testbed.guestXML(g.domain.name), pinIdentity: true)

        let same = try vmctl("check", "--config", g.config)
        let mine = same.stdout.split(separator: "\n").filter { $0.contains(g.domain.name + ":") }
        #expect(mine.contains { $0.hasPrefix("OK") && $0.contains("same UUID and MACs on peer") }, "\(same.stdout)")
        #expect(mine.contains { $0.hasPrefix("OK") && $0.contains("identity pinned (derived)") }, "\(same.stdout)")
        #expect(!mine.contains { $0.hasPrefix("FAIL") }, "\(same.stdout)")

        // Node B defines the guest with another identity (as an unpinned define would).
        try await Testbed.remove(g.domain.name, from: nodeB.connection)
        let other = try DomainDefinition(xml: testbed.guestXML(g.domain.name))
            .settingUUID(UUID(uuidString: "0e0e0e0e-1111-4222-8333-444444444444")!)
        _ = try await nodeB.define(xml: other.xml, pinIdentity: true)
        let differs = try vmctl("check", "--config", g.config)
        #expect(differs.status == 1)
        #expect(
            differs.stdout.contains("FAIL  \(g.domain.name):") && differs.stdout.contains("identity differs on peer"),
            "\(differs.stdout)")

        // Node A holds a random identity (defined without pinning) while the XML has none: not pinned.
        try await Testbed.remove(g.domain.name, from: host.connection)
        _ = try await host.define(xml: testbed.guestXML(g.domain.name), pinIdentity: false)
        let random = try vmctl("check", "--config", g.config)
        #expect(random.status == 1)
        #expect(random.stdout.contains("identity not pinned"), "\(random.stdout)")

        try await Testbed.remove(g.domain.name, from: nodeB.connection)
        try await Testbed.remove(g.domain.name, from: host.connection)
    }
}
