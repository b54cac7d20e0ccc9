import Foundation
import IntegrationSupport
import Libvirt
import Testing
import VMManager

/// The `vmmanager` executable driven as Pacemaker and heartbeat drive it, on real guests.
@Suite("Resource agent on real guests", .serialized, .enabled(if: Testbed.isRequested, "run through `make test`"))
struct AgentTests {
    let testbed: Testbed
    let host: Hypervisor

    init() async throws {
        testbed = try Testbed.load()
        host = try await Hypervisor.connect(testbed.nodeA, timeout: .seconds(60))
    }

    /// A guest XML in a scratch vm_dir, and the OCF parameters that point at it.
    func guest(_ label: String) async throws -> (name: String, parameters: [String: String], dir: String) {
        let name = "it-\(label)"
        try await Testbed.remove(name, from: host.connection)
        let dir = try scratchDirectory(label)
        try testbed.guestXML(name).write(toFile: "\(dir)/\(name).xml", atomically: true, encoding: .utf8)
        return (
            name,
            [
                "config": "\(name).xml", "vm_dir": dir, "state_dir": "\(dir)/state", "lock_dir": "\(dir)/locks",
                "quarantine_dir": "\(dir)/quarantine", "conf_file": "\(dir)/vmmanager.conf",
            ], dir
        )
    }

    func writeEmptyConfig(_ dir: String) throws {
        try "# empty: all defaults\n".write(toFile: "\(dir)/vmmanager.conf", atomically: true, encoding: .utf8)
    }

    @Test("start defines the guest with a pinned identity and returns only when its guest agent answers")
    func startWaitsForTheGuestAgent() async throws {
        let g = try await guest("ocf-start")
        try writeEmptyConfig(g.dir)
        let start = try runOCF(
            "start", g.parameters, meta: ["timeout": "90000"], environment: ["OCF_RESOURCE_INSTANCE": g.name])
        #expect(start.status == 0, "\(start.stderr)")
        let d = try await host.connection.lookupDomain(name: g.name)
        // No waiting here: start already waited.
        try await d.pingAgent(timeout: .seconds(2))
        #expect(d.uuid == StableIdentity.uuid(forName: g.name))
        #expect(try runOCF("monitor", g.parameters, meta: ["interval": "10000"]).status == 0)
        #expect(try runOCF("monitor", g.parameters, environment: ["OCF_CHECK_LEVEL": "10"]).status == 0)
        #expect(try runOCF("start", g.parameters).status == 0)  // idempotent
        #expect(try runOCF("stop", g.parameters, meta: ["timeout": "30000"]).status == 0)
        #expect(try runOCF("monitor", g.parameters).status == 7)
        #expect(try runOCF("stop", g.parameters).status == 0)  // stop of a stopped guest: success, never 7
        try await Testbed.remove(g.name, from: host.connection)
    }

    @Test("stop suspends to disk and start resumes the same guest: its uptime continued")
    func stopThenStartResumes() async throws {
        let g = try await guest("ocf-resume")
        try writeEmptyConfig(g.dir)
        #expect(try runOCF("start", g.parameters).status == 0)
        let d = try await host.connection.lookupDomain(name: g.name)
        try await Task.sleep(for: .seconds(2))
        let before = try await GuestUptime.read(d)
        let stop = try runOCF("stop", g.parameters, meta: ["timeout": "60000"])
        #expect(stop.status == 0, "\(stop.stderr)")
        // By default the image lives beside the guest's XML, with its provenance; libvirt keeps none.
        #expect(FileManager.default.fileExists(atPath: "\(g.dir)/\(g.name).state"))
        #expect(FileManager.default.fileExists(atPath: "\(g.dir)/\(g.name).state.json"))
        #expect(try await !d.hasManagedSaveImage())
        let start = try runOCF("start", g.parameters)
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stderr.contains("transition=resumed-from-saved"))
        let after = try await GuestUptime.read(d)
        #expect(after >= before, "uptime went from \(before) to \(after): the guest rebooted")
        try await Testbed.remove(g.name, from: host.connection)
    }

    @Test("a corrupted saved image still ends in a running guest; the image is kept aside and reported")
    func corruptedImageIsKeptAsideAndTheGuestBoots() async throws {
        let g = try await guest("corrupt")
        try writeEmptyConfig(g.dir)
        #expect(try runOCF("start", g.parameters).status == 0)
        #expect(try runOCF("stop", g.parameters).status == 0)
        let image = "\(g.dir)/\(g.name).state"
        let handle = try #require(FileHandle(forUpdatingAtPath: image), "no saved image at \(image)")
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xEE, count: 1 << 20))
        try handle.close()
        let start = try runOCF("start", g.parameters, meta: ["timeout": "90000"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stderr.contains("transition=restore-failed-cold-booted"), "\(start.stderr)")
        let d = try await host.connection.lookupDomain(name: g.name)
        #expect(try await d.state().isRunningBooted)
        try await d.pingAgent(timeout: .seconds(2))
        let kept = try FileManager.default.contentsOfDirectory(atPath: "\(g.dir)/quarantine")
        #expect(kept.filter { !$0.hasSuffix(".json") }.count == 1 && kept[0].hasPrefix(g.name), "\(kept)")
        try await Testbed.remove(g.name, from: host.connection)
    }

    @Test("a guest whose QEMU process is SIGKILLed is seen as not running by monitor")
    func killedGuestIsSeenByMonitor() async throws {
        let g = try await guest("killed")
        try writeEmptyConfig(g.dir)
        #expect(try runOCF("start", g.parameters).status == 0)
        let pid = try #require(GuestProcess(guest: g.name, uuid: nil, hypervisor: testbed.nodeA).find())
        kill(pid, SIGKILL)
        try await Task.sleep(for: .seconds(1))
        let probe = try runOCF("monitor", g.parameters, meta: ["interval": "0"])
        #expect(probe.status == 7, "\(probe.stderr)")
        try await Testbed.remove(g.name, from: host.connection)
    }

    @Test("start resumes a paused guest")
    func startResumesAPausedGuest() async throws {
        let g = try await guest("paused")
        try writeEmptyConfig(g.dir)
        #expect(try runOCF("start", g.parameters).status == 0)
        let d = try await host.connection.lookupDomain(name: g.name)
        try await d.suspend()
        #expect(try runOCF("monitor", g.parameters).status == 0)  // paused by an admin still counts as up
        #expect(try runOCF("start", g.parameters).status == 0)
        #expect(try await d.state().kind == .running)
        try await Testbed.remove(g.name, from: host.connection)
    }

    @Test("two concurrent starts leave one running guest")
    func concurrentStartsAreSerialised() async throws {
        let g = try await guest("concurrent")
        try writeEmptyConfig(g.dir)
        async let a = Task.detached { try runOCF("start", g.parameters) }.value
        async let b = Task.detached { try runOCF("start", g.parameters) }.value
        let (ra, rb) = try await (a, b)
        #expect(ra.status == 0 && rb.status == 0, "\(ra.stderr)\n\(rb.stderr)")
        let running = try await host.connection.domains(.active).filter { $0.name == g.name }
        #expect(running.count == 1)
        // One of them booted it, the other found it running.
        let booted = [ra, rb].filter { $0.stderr.contains("transition=up") }.count
        #expect(booted == 1, "\(ra.stderr)\n\(rb.stderr)")
        try await Testbed.remove(g.name, from: host.connection)
    }

    @Test("the start guard refuses when the guest runs on node B")
    func startGuardRefusesAGuestRunningOnAPeer() async throws {
        let g = try await guest("guard")
        try writeEmptyConfig(g.dir)
        let nodeB = try await Hypervisor.connect(try testbed.nodeB(), timeout: .seconds(60))
        try await Testbed.remove(g.name, from: nodeB.connection)
        let there = try await nodeB.define(xml: try testbed.guestXML(g.name), pinIdentity: true).domain
        _ = try await nodeB.start(there, readiness: .none, timeout: .seconds(30))
        var parameters = g.parameters
        parameters["peers"] = try testbed.nodeB()
        let start = try runOCF("start", parameters)
        #expect(start.status == 1)
        #expect(
            start.stderr.contains("ocf-exit-reason:") && start.stderr.contains("running on peer"), "\(start.stderr)")
        if let here = try await host.connection.domainIfExists(name: g.name) { #expect(try await !here.isActive()) }
        try await Testbed.remove(g.name, from: nodeB.connection)
        // With the peer's copy gone, the same start goes through.
        #expect(try runOCF("start", parameters).status == 0)
        // One list for every node: this node's own URI in `peers` is skipped, although the guest runs here.
        parameters["peers"] = "\(testbed.nodeA), \(try testbed.nodeB())"
        let again = try runOCF("start", parameters)
        #expect(again.status == 0, "\(again.stderr)")
        try await Testbed.remove(g.name, from: host.connection)
    }

    @Test("migrate_to and migrate_from move the guest to node B and back")
    func migrateToAndFrom() async throws {
        let g = try await guest("ocf-migrate")
        try writeEmptyConfig(g.dir)
        let nodeBURI = try testbed.nodeB()
        let nodeB = try await Hypervisor.connect(nodeBURI, timeout: .seconds(60))
        try await Testbed.remove(g.name, from: nodeB.connection)
        #expect(try runOCF("start", g.parameters).status == 0)
        var source = g.parameters
        source["remoteuri"] = nodeBURI
        source["migrateuri"] = try testbed.nodeBMigrateURI()
        let to = try runOCF("migrate_to", source, meta: ["migrate_target": "nodeB", "timeout": "60000"])
        #expect(to.status == 0, "\(to.stderr)")
        var target = g.parameters
        target["hypervisor"] = nodeBURI
        #expect(try runOCF("migrate_from", target, meta: ["migrate_source": "nodeA"]).status == 0)
        #expect(try runOCF("monitor", target).status == 0)
        #expect(try runOCF("monitor", g.parameters).status == 7)
        let there = try await nodeB.connection.lookupDomain(name: g.name)
        #expect(there.uuid == StableIdentity.uuid(forName: g.name))
        try await there.pingAgent(timeout: .seconds(5))
        try await Testbed.remove(g.name, from: nodeB.connection)
        try await Testbed.remove(g.name, from: host.connection)
    }

    @Test("heartbeat v1: start, status prints exactly running/stopped, stop saves the guest beside its XML")
    func heartbeatFace() async throws {
        let g = try await guest("hb")
        try """
        [global]
        vm_dir = \(g.dir)
        state_dir = \(g.dir)/state
        lock_dir = \(g.dir)/locks
        """.write(toFile: "\(g.dir)/vmmanager.conf", atomically: true, encoding: .utf8)
        // haresources: `node1 vmmanager::it-hb/it-hb.xml::conf_file=...`, like the thesis's BRAVO/Delta/Delta.vmx.
        try FileManager.default.createDirectory(atPath: "\(g.dir)/\(g.name)", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: "\(g.dir)/\(g.name).xml", toPath: "\(g.dir)/\(g.name)/\(g.name).xml")
        let args = ["\(g.name)/\(g.name).xml", "conf_file=\(g.dir)/vmmanager.conf"]
        let before = try runHeartbeat(args, "status")
        #expect(before.stdout == "stopped\n", "\(before.stdout)")
        let start = try runHeartbeat(args, "start")
        #expect(start.status == 0 && start.stdout.isEmpty, "\(start.stderr)")
        let status = try runHeartbeat(args, "status")
        #expect(status.stdout == "running\n")
        let stop = try runHeartbeat(args, "stop")
        #expect(stop.status == 0 && stop.stdout.isEmpty, "\(stop.stderr)")
        #expect(try runHeartbeat(args, "status").stdout == "stopped\n")
        #expect(FileManager.default.fileExists(atPath: "\(g.dir)/\(g.name)/\(g.name).state"))
        // Stop again: heartbeat retries stop and reboots the node if it keeps failing.
        #expect(try runHeartbeat(args, "stop").status == 0)
        try await Testbed.remove(g.name, from: host.connection)
    }
}

extension AgentTests {
    @Test("resource-agents' ocf-tester passes every check against a testbed guest")
    func ocfTesterPasses() async throws {
        let g = try await guest("ocftester")
        try writeEmptyConfig(g.dir)
        var arguments = ["--pid", "--fork", "--kill-child", "--mount-proc", "--", "/usr/sbin/ocf-tester", "-n", g.name]
        for (k, v) in g.parameters { arguments += ["-o", "\(k)=\(v)"] }
        let r = try run(
            "/usr/bin/unshare", arguments + [agentPath],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("passed all tests"), "\(r.stdout)")
        try await Testbed.remove(g.name, from: host.connection)
    }
}
