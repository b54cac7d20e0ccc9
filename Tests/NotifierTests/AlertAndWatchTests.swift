import Foundation
import Testing
@testable import Libvirt
import VMManager
import VMManagerDelivery

@Suite("Pacemaker alerts")
struct PacemakerAlertTests {
    @Test("a lost node and a joined node")
    func nodes() throws {
        let lost = try #require(
            PacemakerAlert.event(
                environment: [
                    "CRM_alert_kind": "node", "CRM_alert_node": "node2", "CRM_alert_desc": "lost",
                    "CRM_alert_nodeid": "2",
                    "CRM_alert_timestamp_epoch": "1700000000", "CRM_alert_timestamp_usec": "250000",
                ], localNode: "node1"))
        #expect(lost.transition == .nodeLost && lost.clusterNode == "node2" && lost.node == "node1")
        #expect(lost.guest == nil && lost.source == .alert)
        #expect(lost.timestamp == Date(timeIntervalSince1970: 1_700_000_000.25))
        #expect(lost.subject == "Cluster node node2 lost (reported by node1)")
        #expect(lost.details["nodeid"] == "2")
        let joined = try #require(
            PacemakerAlert.event(
                environment: [
                    "CRM_alert_kind": "node", "CRM_alert_node": "node2", "CRM_alert_desc": "member",
                ], localNode: "node1"))
        #expect(joined.transition == .nodeJoined)
    }

    @Test("fencing: done and failed")
    func fencing() throws {
        let done = try #require(
            PacemakerAlert.event(
                environment: [
                    "CRM_alert_kind": "fencing", "CRM_alert_node": "node2", "CRM_alert_rc": "0",
                    "CRM_alert_task": "reboot",
                    "CRM_alert_desc": "Operation reboot of node2 by node1 for pacemaker-controld.1234@node1: OK",
                ], localNode: "node1"))
        #expect(done.transition == .fenced && done.reason.hasPrefix("Operation reboot of node2"))
        let failed = try #require(
            PacemakerAlert.event(
                environment: [
                    "CRM_alert_kind": "fencing", "CRM_alert_node": "node2", "CRM_alert_rc": "1",
                ], localNode: "node1"))
        #expect(failed.transition == .fencingFailed)
    }

    @Test("a failed resource operation is notified; success, cancellation and attributes are not")
    func resources() throws {
        let base = [
            "CRM_alert_kind": "resource", "CRM_alert_node": "node1", "CRM_alert_rsc": "vm-web1",
            "CRM_alert_task": "start", "CRM_alert_interval": "0", "CRM_alert_target_rc": "0",
        ]
        var failed = base
        failed["CRM_alert_rc"] = "1"
        failed["CRM_alert_desc"] = "error"
        let event = try #require(PacemakerAlert.event(environment: failed, localNode: "node2"))
        #expect(event.transition == .startFailed && event.resource == "vm-web1" && event.node == "node1")
        #expect(event.subject == "Resource vm-web1 start-failed on node1")
        var ok = base
        ok["CRM_alert_rc"] = "0"
        #expect(PacemakerAlert.event(environment: ok) == nil)
        var probe = base
        probe["CRM_alert_task"] = "monitor"
        probe["CRM_alert_rc"] = "7"
        probe["CRM_alert_target_rc"] = "7"
        #expect(PacemakerAlert.event(environment: probe) == nil, "a probe that found it stopped, as expected")
        var cancelled = failed
        cancelled["CRM_alert_desc"] = "Cancelled"
        #expect(PacemakerAlert.event(environment: cancelled) == nil)
        #expect(PacemakerAlert.event(environment: ["CRM_alert_kind": "attribute", "CRM_alert_node": "n"]) == nil)
        #expect(PacemakerAlert.event(environment: [:]) == nil)
    }

    @Test("the older CRM_notify_* names work too, and control characters are cleaned")
    func legacyNames() throws {
        let e = try #require(
            PacemakerAlert.event(
                environment: [
                    "CRM_notify_kind": "node", "CRM_notify_node": "node2\r\nBcc: x@y", "CRM_notify_desc": "lost",
                ], localNode: "node1"))
        #expect(e.clusterNode == "node2  Bcc: x@y")
    }
}

@Suite("Watcher decisions")
struct WatcherDecisionTests {
    static func lifecycle(_ type: Int32, _ detail: Int32) -> DomainEvent.Lifecycle {
        DomainEvent.Lifecycle(rawType: type, detail: detail)
    }

    /// libvirt's VIR_DOMAIN_EVENT_* numbers: type, detail → what the watcher makes of it.
    @Test(
        "libvirt life-cycle events map to transitions",
        arguments: [
            (8, 0, "report crashed"),  // crashed (panicked)
            (5, 2, "report crashed"),  // stopped (crashed)
            (5, 5, "report crashed"),  // stopped (failed): QEMU died
            (6, 1, "report shut-down-by-guest"),  // shutdown (guest)
            (6, 2, "ignore"),  // shutdown (host): the stop follows
            (3, 2, "report paused-io-error"),  // suspended (ioerror)
            (3, 3, "report paused-watchdog"),
            (3, 0, "outside paused"),  // suspended (paused)
            (4, 0, "outside resumed"),  // resumed (unpaused)
            (2, 0, "outside up"),  // started (booted)
            (2, 2, "outside resumed-from-saved"),  // started (restored)
            (5, 0, "outside down"),  // stopped (shutdown)
            (5, 1, "outside down"),  // stopped (destroyed)
            (5, 4, "outside down"),  // stopped (saved)
            (2, 1, "ignore"),  // started (migrated)
            (3, 1, "ignore"),  // suspended (migrated)
            (4, 1, "ignore"),  // resumed (migrated)
            (5, 3, "ignore"),  // stopped (migrated)
            (0, 0, "ignore"),  // defined
            (42, 0, "ignore"),  // unknown to this build
        ])
    func classify(type: Int32, detail: Int32, expected: String) {
        let verdict = LifecycleVerdict.classify(Self.lifecycle(type, detail))
        let text: String
        switch verdict {
        case .report(let k, _): text = "report \(k)"
        case .reportIfOutsideAction(let k, _): text = "outside \(k)"
        case .ignore: text = "ignore"
        }
        #expect(text == expected)
    }

    /// A container's killed init and an init that exited both come as "stopped (shutdown)": outside an action,
    /// a container that stopped is a failure (its failure_response applies); a VM's shutdown stays a shutdown.
    @Test(
        "a container that stops by itself outside an action is a failure",
        arguments: [
            (5, 0, "outside crashed"),  // stopped (shutdown): the init ended
            (5, 1, "outside down"),  // stopped (destroyed): someone destroyed it
            (5, 5, "report crashed"),  // stopped (failed)
            (2, 0, "outside up"),  // started (booted)
        ])
    func classifyContainer(type: Int32, detail: Int32, expected: String) {
        let text: String
        switch LifecycleVerdict.classify(Self.lifecycle(type, detail), container: true) {
        case .report(let k, _): text = "report \(k)"
        case .reportIfOutsideAction(let k, _): text = "outside \(k)"
        case .ignore: text = "ignore"
        }
        #expect(text == expected)
        #expect(Hypervisor.servesContainers("lxc:///system") && Hypervisor.servesContainers("lxc+tcp://b/system"))
        #expect(!Hypervisor.servesContainers("qemu:///system"))
    }

    @Test("an event is the cluster's when the guest's lock is held or the agent reported just after it")
    func clusterAction() throws {
        let scratch = try Scratch("action")
        let locks = "\(scratch.path)/locks"
        try FileManager.default.createDirectory(atPath: locks, withIntermediateDirectories: true)
        let (notifier, _) = try scratch.notifier(
            "[notify]\nmail_to = a@example.org\nspool_dir = \(scratch.path)/spool\n")
        let now = Date()
        #expect(!ClusterActionCheck.isClusterAction(guest: "web1", at: now, lockDirectory: locks, notifier: notifier))

        // The agent holds the lock (another open file description, as another process would).
        let fd = open("\(locks)/web1.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        #expect(flock(fd, LOCK_EX) == 0)
        #expect(ClusterActionCheck.isLocked(guest: "web1", lockDirectory: locks))
        #expect(ClusterActionCheck.isClusterAction(guest: "web1", at: now, lockDirectory: locks, notifier: notifier))
        close(fd)
        #expect(!ClusterActionCheck.isLocked(guest: "web1", lockDirectory: locks))

        // The agent recorded a transition for web1 after the event: its action caused it.
        notifier.record(sampleEvent(guest: "web1"))
        #expect(ClusterActionCheck.isClusterAction(guest: "web1", at: now, lockDirectory: locks, notifier: notifier))
        // ... but not an event a minute later, nor an event of another guest.
        #expect(
            !ClusterActionCheck.isClusterAction(
                guest: "web1", at: now.addingTimeInterval(60), lockDirectory: locks,
                notifier: notifier))
        #expect(!ClusterActionCheck.isClusterAction(guest: "db1", at: now, lockDirectory: locks, notifier: notifier))
        // The watcher's own records do not count as actions.
        var watched = sampleEvent(guest: "db1")
        watched.source = .watcher
        notifier.record(watched)
        #expect(!ClusterActionCheck.isClusterAction(guest: "db1", at: now, lockDirectory: locks, notifier: notifier))
    }
}
