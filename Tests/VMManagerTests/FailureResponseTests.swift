import Foundation
import Logging
import Testing
@testable import VMManager

/// The decisions of `vmctl watch`'s failure response that need no cluster: the policy, which resource
/// started a guest, the restart count, the hand-over's side. What it does in real clusters is tested in the
/// cluster lab (testbed/cluster/scenarios.py: a killed guest under heartbeat and under Pacemaker).
@Suite("Failure response")
struct FailureResponseTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmm-fr-\(UUID().uuidString)").path

    func write(_ text: String, _ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
        return "\(dir)/\(name)"
    }

    @Test("failure_response: none by default, pacemaker, restart with its count and window; a typo is an error")
    func policy() throws {
        let none = try GuestSettings.resolve(parameters: ["domain": "web1"], ignoringConfigFile: true)
        #expect(none.failureResponse == .none)
        let pacemaker = try GuestSettings.resolve(
            parameters: ["domain": "web1", "failure_response": "pacemaker"],
            ignoringConfigFile: true)
        #expect(pacemaker.failureResponse == .pacemaker)
        let conf = try write(
            "[global]\nfailure_response = restart\nlocal_restarts = 1\nrestart_window = 60\n", "a.conf")
        let restart = try GuestSettings.resolve(parameters: ["domain": "web1", "conf_file": conf])
        #expect(restart.failureResponse == .restart(localRestarts: 1, window: .seconds(60), handoverCommand: nil))
        #expect(throws: ConfigError.self) {
            _ = try GuestSettings.resolve(
                parameters: ["domain": "web1", "failure_response": "reboot"],
                ignoringConfigFile: true)
        }
    }

    @Test("the resource that started a guest on this node is found in the agent's memory")
    func resourceInstance() throws {
        _ = try write("", "placeholder")
        try FileManager.default.createDirectory(atPath: "\(dir)/state/resources", withIntermediateDirectories: true)
        try "vm2\n".write(toFile: "\(dir)/state/resources/vm2", atomically: true, encoding: .utf8)
        try "web1\n".write(
            toFile: "\(dir)/state/resources/hb-_srv_vm-alpha_web1_web1.xml", atomically: true,
            encoding: .utf8)
        #expect(
            FailureResponse.resourceInstance(of: "web1", stateDirectory: "\(dir)/state")
                == "hb-_srv_vm-alpha_web1_web1.xml")
        #expect(FailureResponse.resourceInstance(of: "vm2", stateDirectory: "\(dir)/state") == "vm2")
        #expect(FailureResponse.resourceInstance(of: "db9", stateDirectory: "\(dir)/state") == nil)
    }

    @Test("the hand-over gives up 'local' resources on the group's preferred node, 'foreign' ones elsewhere")
    func handoverSide() throws {
        let haresources = try write(
            """
            # comment vmmanager::web1
            alpha Filesystem::-Lvm-alpha::/srv/vm-alpha::ext4 vmmanager::/srv/vm-alpha/web1/web1.xml \
            vmmanager::db1::stop_timeout=60
            bravo vmmanager::web2
            """, "haresources")
        let web1 = GuestController.heartbeatInstance("/srv/vm-alpha/web1/web1.xml")
        #expect(FailureResponse.isPreferredNode(instance: web1, haresources: haresources, node: "alpha"))
        #expect(!FailureResponse.isPreferredNode(instance: web1, haresources: haresources, node: "bravo"))
        #expect(FailureResponse.isPreferredNode(instance: "hb-db1", haresources: haresources, node: "alpha"))
        #expect(FailureResponse.isPreferredNode(instance: "hb-web2", haresources: haresources, node: "bravo"))
    }

    @Test("restarts are counted within the window, across watcher restarts (kept on disk)")
    func restartHistory() throws {
        let history = RestartHistory(directory: dir, guest: "web1")
        #expect(history.recent(within: .seconds(600)) == 0)
        history.record()
        history.record()
        #expect(RestartHistory(directory: dir, guest: "web1").recent(within: .seconds(600)) == 2)
        #expect(RestartHistory(directory: dir, guest: "db1").recent(within: .seconds(600)) == 0)
    }

    @Test("a guest no cluster resource started here, or failure_response = none, gets no response")
    func nothingToDo() async throws {
        let conf = try write("[global]\nfailure_response = pacemaker\nstate_dir = \(dir)/state\n", "p.conf")
        let response = FailureResponse(
            configPath: conf, hypervisor: "test:///default", reporter: CollectingReporter(),
            logger: Logger(label: "test"))
        guard case .nothing = await response.respond(to: "web1", uuid: nil, reason: "crashed") else {
            Issue.record("responded for a guest no resource started")
            return
        }
        let off = try write("[global]\nstate_dir = \(dir)/state\n", "n.conf")
        let quiet = FailureResponse(
            configPath: off, hypervisor: "test:///default", reporter: CollectingReporter(),
            logger: Logger(label: "test"))
        guard case .nothing = await quiet.respond(to: "web1", uuid: nil, reason: "crashed") else {
            Issue.record("responded with failure_response = none")
            return
        }
    }

    @Test("without Pacemaker's tools the response fails with what is missing, and reports nothing false")
    func pacemakerMissing() async throws {
        let conf = try write("[global]\nfailure_response = pacemaker\nstate_dir = \(dir)/state\n", "p.conf")
        try FileManager.default.createDirectory(atPath: "\(dir)/state/resources", withIntermediateDirectories: true)
        try "vm2\n".write(toFile: "\(dir)/state/resources/vm2", atomically: true, encoding: .utf8)
        let reporter = CollectingReporter()
        var response = FailureResponse(
            configPath: conf, hypervisor: "test:///default", reporter: reporter,
            logger: Logger(label: "test"))
        response.searchPath = "\(dir)/empty-bin"
        let outcome = await response.respond(to: "vm2", uuid: nil, reason: "crashed")
        guard case .failed(let why) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(why.contains("crm_node is not installed"))
        #expect(reporter.transitions.isEmpty)
    }
}

/// Which `vmctl` the agent runs for the background flush.
@Suite("The flush's vmctl")
struct FlushExecutableTests {
    @Test("vmctl beside the executable, or in <prefix>/sbin when the full agent runs from <prefix>/lib/vmmanager")
    func installedBeside() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vmm-prefix-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(root)/sbin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(root)/lib/vmmanager", withIntermediateDirectories: true)
        #expect(
            FileManager.default.createFile(
                atPath: "\(root)/sbin/vmctl", contents: Data("#!/bin/sh\n".utf8),
                attributes: [.posixPermissions: 0o755]))
        #expect(Notifier.installed("vmctl", beside: "\(root)/lib/vmmanager/vmmanager-agent") == "\(root)/sbin/vmctl")
        #expect(Notifier.installed("vmctl", beside: "\(root)/sbin/vmmanager") == "\(root)/sbin/vmctl")
    }
}
