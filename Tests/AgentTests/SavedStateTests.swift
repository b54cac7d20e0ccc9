import Foundation
import IntegrationSupport
import Libvirt
import Testing
import VMManager

/// Saved state across the testbed's two nodes, with the guest's XML (and so, by default, its saved state)
/// in a directory both nodes see, as the thesis's DRBD volume was: takeover resumes, nothing stale is
/// ever restored, a split brain keeps both images.
@Suite("Saved state across two nodes", .serialized, .enabled(if: Testbed.isRequested, "run through `make test`"))
struct SavedStateTests {
    let testbed: Testbed
    let nodeA: Hypervisor
    let nodeB: Hypervisor

    init() async throws {
        testbed = try Testbed.load()
        nodeA = try await Hypervisor.connect(testbed.nodeA, timeout: .seconds(60))
        nodeB = try await Hypervisor.connect(try testbed.nodeB(), timeout: .seconds(60))
    }

    /// One guest whose XML sits in a shared directory, and each node's own settings file (state, locks,
    /// quarantine and spool are node-local; the XML and saved state are shared).
    struct Guest {
        let name: String
        let shared: String
        let xml: String
        let confA: String
        let confB: String
        let root: String
        var image: String { "\(shared)/\(name).state" }

        func ocf(_ node: String, _ extra: [String: String] = [:]) -> [String: String] {
            var p = ["config": xml, "conf_file": node == "A" ? confA : confB]
            for (k, v) in extra { p[k] = v }
            return p
        }
        func quarantine(_ node: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(node)/quarantine")) ?? []).sorted()
        }
        /// The events the notifier recorded for this guest on `node` (its history: kept whether or not the
        /// mail server, here a closed port, accepted them).
        func notified(_ node: String) -> String {
            (try? String(contentsOfFile: "\(root)/\(node)/spool/.history/\(name).jsonl", encoding: .utf8)) ?? ""
        }
    }

    func guest(_ label: String, xmlEdit: (String) -> String = { $0 }, globalSettings: String = "") async throws -> Guest
    {
        let name = "it-ss-\(label)"
        try await Testbed.remove(name, from: nodeA.connection)
        try await Testbed.remove(name, from: nodeB.connection)
        let root = try scratchDirectory("ss-\(label)")
        let shared = "\(root)/shared/\(name)"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        let xml = "\(shared)/\(name).xml"
        try xmlEdit(try testbed.guestXML(name)).write(toFile: xml, atomically: true, encoding: .utf8)
        var confs: [String] = []
        for node in ["A", "B"] {
            let hypervisor = node == "A" ? testbed.nodeA : try testbed.nodeB()
            let conf = "\(root)/\(node)/vmmanager.conf"
            try FileManager.default.createDirectory(atPath: "\(root)/\(node)", withIntermediateDirectories: true)
            try """
            [global]
            hypervisor = \(hypervisor)
            state_dir = \(root)/\(node)/state
            lock_dir = \(root)/\(node)/locks
            quarantine_dir = \(root)/\(node)/quarantine
            \(globalSettings)
            [notify]
            spool_dir = \(root)/\(node)/spool
            mail_to = admins@example.org
            smtp_url = smtp://127.0.0.1:9
            smtp_starttls = no
            """.write(toFile: conf, atomically: true, encoding: .utf8)
            confs.append(conf)
        }
        return Guest(name: name, shared: shared, xml: xml, confA: confs[0], confB: confs[1], root: root)
    }

    func cleanup(_ g: Guest) async throws {
        try await Testbed.remove(g.name, from: nodeA.connection)
        try await Testbed.remove(g.name, from: nodeB.connection)
    }

    @Test("default settings: stop on A, start on B resumes the guest (uptime continued) with its clock set right")
    func takeoverResumesWithTheClockSet() async throws {
        let g = try await guest("takeover")
        // heartbeat v1 on both nodes, as haresources runs it: `vmmanager::<shared>/<name>/<name>.xml`.
        let argsA = [g.xml, "conf_file=\(g.confA)"]
        let argsB = [g.xml, "conf_file=\(g.confB)"]
        let start = try runHeartbeat(argsA, "start")
        try #require(start.status == 0, "\(start.stderr)")
        let onA = try await nodeA.connection.lookupDomain(name: g.name)
        try await Task.sleep(for: .seconds(2))
        let uptimeBefore = try await GuestUptime.read(onA)
        let stop = try runHeartbeat(argsA, "stop")
        try #require(stop.status == 0, "\(stop.stderr)")
        #expect(FileManager.default.fileExists(atPath: g.image), "the image lives beside the XML")
        let provenance = try String(contentsOfFile: g.image + ".json", encoding: .utf8)
        #expect(provenance.contains("\"node\" : \"\(try testbed.value("NODE_A_NAME"))\""), "\(provenance)")
        #expect(try await !onA.hasManagedSaveImage(), "nothing node-local is left on A")

        // The takeover takes a while: the guest's clock stands still meanwhile.
        try await Task.sleep(for: .seconds(30))
        let takeover = try runHeartbeat(argsB, "start")
        try #require(takeover.status == 0, "\(takeover.stderr)")
        #expect(takeover.stderr.contains("transition=resumed-from-saved"), "\(takeover.stderr)")
        let onB = try await nodeB.connection.lookupDomain(name: g.name)
        let uptimeAfter = try await GuestUptime.read(onB)
        #expect(uptimeAfter >= uptimeBefore, "uptime went from \(uptimeBefore) to \(uptimeAfter): the guest rebooted")
        let guestClock = try await onB.guestTime()
        #expect(
            abs(guestClock.timeIntervalSinceNow) < 2, "the guest's clock is \(guestClock.timeIntervalSinceNow) s off")
        let corrected = try #require(
            takeover.stderr.firstMatch(of: /clock corrected by ([0-9.]+) s/).flatMap { Double($0.1) },
            "\(takeover.stderr)")
        #expect(corrected > 25, "the reported correction (\(corrected) s) should be the ~30 s the image waited")
        #expect(!FileManager.default.fileExists(atPath: g.image), "a restored image is not kept to be restored again")
        #expect(try runHeartbeat(argsA, "status").stdout == "stopped\n")
        #expect(try runHeartbeat(argsB, "status").stdout == "running\n")

        // Failback: B saves, A resumes B's state (not anything of its own).
        #expect(try runHeartbeat(argsB, "stop").status == 0)
        let failback = try runHeartbeat(argsA, "start")
        #expect(failback.status == 0, "\(failback.stderr)")
        #expect(failback.stderr.contains("transition=resumed-from-saved"), "\(failback.stderr)")
        #expect(failback.stderr.contains("saved on \(try testbed.value("NODE_B_NAME"))"), "\(failback.stderr)")
        #expect(try await GuestUptime.read(onA) >= uptimeAfter)
        try await cleanup(g)
    }

    @Test("a node-local managed-save image left on A is not restored after the guest ran on B: quarantined, notified")
    func leftoverManagedSaveImageIsQuarantined() async throws {
        let g = try await guest("leftover")
        #expect(try runOCF("start", g.ocf("A")).status == 0)
        let onA = try await nodeA.connection.lookupDomain(name: g.name)
        // What the old default (or `virsh managedsave`) leaves: an image only node A can see.
        try await onA.managedSave()
        #expect(try await onA.hasManagedSaveImage())
        // The guest then runs on B (takeover: a cold boot, since nothing is in the shared directory) and is
        // saved there.
        let onBStart = try runOCF("start", g.ocf("B"))
        #expect(onBStart.status == 0, "\(onBStart.stderr)")
        #expect(onBStart.stderr.contains("transition=up"), "\(onBStart.stderr)")
        let onB = try await nodeB.connection.lookupDomain(name: g.name)
        let uptimeOnB = try await GuestUptime.read(onB)
        #expect(try runOCF("stop", g.ocf("B")).status == 0)

        let back = try runOCF("start", g.ocf("A"))
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stderr.contains("transition=stale-image-discarded"), "\(back.stderr)")
        #expect(back.stderr.contains("transition=resumed-from-saved"), "B's state, the latest, is restored")
        #expect(try await !onA.hasManagedSaveImage())
        let kept = g.quarantine("A")
        #expect(kept.contains { $0.hasPrefix("\(g.name).save.") }, "\(kept)")
        let events = g.notified("A")
        #expect(events.contains("stale-image-discarded") && events.contains("/\(g.name).save"), "\(events)")
        #expect(try await GuestUptime.read(onA) >= uptimeOnB, "the guest continues from B, not from A's old image")
        try await cleanup(g)
    }

    @Test("with a saved-state directory set, a leftover node-local managed-save image is not restored")
    func leftoverImageWithSavedStateDirectory() async throws {
        let g = try await guest("dir", globalSettings: "")
        let parameters = g.ocf("A", ["saved_state": "\(g.root)/shared/saved"])
        #expect(try runOCF("start", parameters).status == 0)
        let onA = try await nodeA.connection.lookupDomain(name: g.name)
        try await onA.managedSave()
        let start = try runOCF("start", parameters)
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stderr.contains("transition=stale-image-discarded"), "\(start.stderr)")
        #expect(
            start.stderr.contains("transition=up") && !start.stderr.contains("resumed-from-saved"), "\(start.stderr)")
        #expect(try await onA.state().isRunningBooted, "cold-booted, not restored by libvirt")
        #expect(g.quarantine("A").contains { $0.hasPrefix("\(g.name).save.") })
        // The stop chain saves into the directory, and the next start restores from there.
        #expect(try runOCF("stop", parameters).status == 0)
        #expect(FileManager.default.fileExists(atPath: "\(g.root)/shared/saved/\(g.name).state"))
        let again = try runOCF("start", parameters)
        #expect(again.stderr.contains("transition=resumed-from-saved"), "\(again.stderr)")
        try await cleanup(g)
    }

    @Test("split brain: both nodes save the guest, both images survive, start refuses until vmctl picks one")
    func splitBrainKeepsBothImages() async throws {
        let g = try await guest("split")
        #expect(try runOCF("start", g.ocf("A")).status == 0)
        // No fencing, no peers: node B starts the same guest too (heartbeat v1 after a link failure).
        #expect(try runOCF("start", g.ocf("B")).status == 0)
        let stopA = try runOCF("stop", g.ocf("A"))
        #expect(stopA.status == 0, "\(stopA.stderr)")
        let stopB = try runOCF("stop", g.ocf("B"))
        #expect(stopB.status == 0, "\(stopB.stderr)")
        #expect(stopB.stderr.contains("transition=saved-state-conflict"), "\(stopB.stderr)")
        let images = try FileManager.default.contentsOfDirectory(atPath: g.shared)
            .filter { $0.hasPrefix("\(g.name).state") && !$0.hasSuffix(".json") }
        #expect(images.count == 2, "\(images)")

        let refused = try runOCF("start", g.ocf("A"))
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(
            refused.stderr.contains("ocf-exit-reason:") && refused.stderr.contains("2 saved images")
                && refused.stderr.contains("vmctl saved"), "\(refused.stderr)")
        #expect(try await nodeA.connection.lookupDomain(name: g.name).state().kind == .shutOff)

        let check = try run(vmctlPath, ["check", "--config", g.confA])
        #expect(check.status == 1 && check.stdout.contains("2 saved images"), "\(check.stdout)")
        let list = try run(vmctlPath, ["list", "--all", "--config", g.confA])
        #expect(
            list.stdout.split(separator: "\n").contains { $0.hasPrefix(g.name) && $0.contains("conflict") },
            "\(list.stdout)")

        let listing = try run(vmctlPath, ["saved", g.name, "--json", "--config", g.confA])
        #expect(listing.status == 0, "\(listing.stderr)")
        let entries = try #require(
            try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [[String: Any]])
        #expect(entries.count == 2 && entries.allSatisfy { $0["verdict"] as? String == "stale" }, "\(entries)")
        let fromB = try #require(entries.first { $0["savedOn"] as? String == (try? testbed.value("NODE_B_NAME")) })
        let keep = try run(vmctlPath, ["saved", g.name, "--keep", fromB["path"] as! String, "--config", g.confA])
        #expect(keep.status == 0, "\(keep.stderr)")

        let start = try runOCF("start", g.ocf("A"))
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stderr.contains("transition=resumed-from-saved"), "\(start.stderr)")
        #expect(start.stderr.contains("saved on \(try testbed.value("NODE_B_NAME"))"), "\(start.stderr)")
        #expect(g.quarantine("A").contains { $0.hasPrefix("\(g.name).state") && !$0.hasSuffix(".json") })
        try await cleanup(g)
    }

    @Test("an image whose disk was written after the save is not restored")
    func imageOlderThanItsDiskIsNotRestored() async throws {
        var disk = ""
        let g = try await guest("disk") { xml in
            xml.replacingOccurrences(
                of: "  </devices>",
                with: """
                        <disk type='file' device='disk'>
                          <driver name='qemu' type='qcow2'/>
                          <source file='DISK'/>
                          <target dev='vdb' bus='virtio'/>
                        </disk>
                      </devices>
                    """)
        }
        disk = "\(g.shared)/data.qcow2"
        let xml = try String(contentsOfFile: g.xml, encoding: .utf8).replacingOccurrences(of: "DISK", with: disk)
        try xml.write(toFile: g.xml, atomically: true, encoding: .utf8)
        let created = try run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", disk, "16M"])
        try #require(created.status == 0, "\(created.stderr)")

        #expect(try runOCF("start", g.ocf("A")).status == 0)
        #expect(try runOCF("stop", g.ocf("A")).status == 0)
        #expect(FileManager.default.fileExists(atPath: g.image))
        // The disk moves on without the guest's memory (another node ran the guest, or an admin repaired it).
        let write = try run("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 0 64k", disk])
        try #require(write.status == 0, "\(write.stderr)")

        let start = try runOCF("start", g.ocf("A"))
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stderr.contains("transition=stale-image-discarded"), "\(start.stderr)")
        #expect(start.stderr.contains("data.qcow2 was written after the image was saved"), "\(start.stderr)")
        #expect(!start.stderr.contains("resumed-from-saved"))
        #expect(try await nodeA.connection.lookupDomain(name: g.name).state().isRunningBooted)
        #expect(g.quarantine("A").contains { $0.hasPrefix("\(g.name).state.") })
        try await cleanup(g)
    }
}
