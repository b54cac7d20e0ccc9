import Foundation
import IntegrationSupport
import Libvirt
import Testing
import VMManager

/// Admission control across real agent processes booting real guests: the node's boot slots.
@Suite("Admission control across agents", .serialized, .enabled(if: Testbed.isRequested, "run through `make test`"))
struct AdmissionAgentTests {
    let testbed: Testbed
    let host: Hypervisor

    init() async throws {
        testbed = try Testbed.load()
        host = try await Hypervisor.connect(testbed.nodeA, timeout: .seconds(60))
    }

    @Test("with boot_slots = 1, three agents boot one at a time, the higher priority first, each start succeeding")
    func bootsAreAdmittedOneAtATime() async throws {
        let shared = try scratchDirectory("slots")
        try "[global]\nboot_slots = 1\n".write(toFile: "\(shared)/vmmanager.conf", atomically: true, encoding: .utf8)
        var guests: [(name: String, parameters: [String: String])] = []
        for label in ["slot-a", "slot-b", "slot-c"] {
            let name = "it-\(label)"
            try await Testbed.remove(name, from: host.connection)
            let dir = try scratchDirectory(label)
            try testbed.guestXML(name).write(toFile: "\(dir)/\(name).xml", atomically: true, encoding: .utf8)
            guests.append(
                (
                    name,
                    [
                        "config": "\(name).xml", "vm_dir": dir, "state_dir": "\(dir)/state",
                        "lock_dir": "\(shared)/locks", "quarantine_dir": "\(dir)/quarantine",
                        "conf_file": "\(shared)/vmmanager.conf",
                    ]
                ))
        }
        let admission = Admission(lockDirectory: "\(shared)/locks", limits: .init(boot: 1, restore: 1, save: 1))
        // Each agent is waited for on a thread of its own: blocking the cooperative pool's few threads (two on a
        // two-CPU machine) would stall the polling below.
        func start(_ g: (name: String, parameters: [String: String]), priority: Int) -> Task<CommandResult, any Error> {
            Task {
                try await withCheckedThrowingContinuation { continuation in
                    DispatchQueue.global().async {
                        continuation.resume(
                            with: Result {
                                try runOCF(
                                    "start", g.parameters, meta: ["timeout": "240000", "priority": "\(priority)"],
                                    environment: ["OCF_RESOURCE_INSTANCE": g.name])
                            })
                    }
                }
            }
        }
        func until(_ what: String, _ condition: () -> Bool) async throws {
            for _ in 0..<1200 where !condition() { try await Task.sleep(for: .milliseconds(50)) }
            #expect(condition(), "\(what) never happened")
        }
        // a boots; b queues behind it; then c, of higher priority, queues and must go before b.
        let a = start(guests[0], priority: 0)
        try await until("a holds the boot slot") { admission.holders(of: .boot).map(\.guest) == [guests[0].name] }
        let b = start(guests[1], priority: 0)
        try await until("b waits") { admission.waiters(for: .boot).map(\.guest) == [guests[1].name] }
        let c = start(guests[2], priority: 10)
        try await until("c waits before b") {
            admission.waiters(for: .boot).map(\.guest) == [guests[2].name, guests[1].name]
        }
        var order: [String] = []
        var mostHolders = 0
        while order.count < 3 {
            let holders = admission.holders(of: .boot).map(\.guest)
            mostHolders = max(mostHolders, holders.count)
            if let h = holders.first, order.last != h { order.append(h) }
            if order.count < 3 && holders.isEmpty && admission.waiters(for: .boot).isEmpty { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let results = [try await a.value, try await b.value, try await c.value]
        for (g, r) in zip(guests, results) {
            #expect(r.status == 0, "\(g.name): \(r.stderr)")
        }
        #expect(mostHolders == 1)
        #expect(order == [guests[0].name, guests[2].name, guests[1].name])
        #expect(results[1].stderr.contains("waiting for a boot slot"), "\(results[1].stderr)")
        for g in guests {
            let d = try await host.connection.lookupDomain(name: g.name)
            try await d.pingAgent(timeout: .seconds(5))
            try await Testbed.remove(g.name, from: host.connection)
        }
    }
}
