import Foundation
import Logging
import Synchronization
import Testing
@testable import VMManager

/// The node's admission slots: flock'ed files, so every test here holds them through separate descriptors
/// (as separate agent processes do) or through a separate process.
@Suite("Admission control")
struct AdmissionTests {
    let lockDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("vmm-slots-\(UUID().uuidString)")
        .path
    let logger = Logger(label: "test")

    func admission(boot: Int = 1) -> Admission {
        Admission(lockDirectory: lockDirectory, limits: .init(boot: boot, restore: 1, save: 1))
    }

    func deadline(_ seconds: Double) -> ContinuousClock.Instant { .now + .milliseconds(Int(seconds * 1000)) }

    @Test("never more holders than slots, and every slot used")
    func limitRespected() async throws {
        let admission = admission(boot: 2)
        let running = Shared((now: 0, most: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<6 {
                group.addTask {
                    let slot = try await admission.acquire(
                        .boot, guest: "g\(i)", priority: 0, deadline: deadline(20),
                        logger: logger)
                    running.withLock {
                        $0.now += 1
                        $0.most = max($0.most, $0.now)
                    }
                    #expect(admission.holders(of: .boot).count <= 2)
                    try await Task.sleep(for: .milliseconds(150))
                    running.withLock { $0.now -= 1 }
                    slot.release()
                }
            }
            try await group.waitForAll()
        }
        #expect(running.withLock { $0.most } == 2)
        #expect(admission.holders(of: .boot).isEmpty)
        #expect(admission.waiters(for: .boot).isEmpty)
    }

    @Test("a slot held by another process counts, and is free again once that process is killed")
    func killedHolderFreesItsSlot() async throws {
        let admission = admission(boot: 1)
        try FileManager.default.createDirectory(
            atPath: "\(admission.directory)/boot", withIntermediateDirectories: true)
        let holder = Process()
        // One process that holds the slot's lock itself (flock(1) would hand it to its child too).
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = [
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); "
                + "time.sleep(60)", "\(admission.directory)/boot/0.slot",
        ]
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        // Wait until flock(1) holds it.
        for _ in 0..<100 where !FileLock.isHeld("\(admission.directory)/boot/0.slot") {
            try await Task.sleep(for: .milliseconds(20))
        }
        await #expect(throws: VMError.self) {
            _ = try await admission.acquire(.boot, guest: "web1", priority: 0, deadline: deadline(0.3), logger: logger)
        }
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let slot = try await admission.acquire(.boot, guest: "web1", priority: 0, deadline: deadline(5), logger: logger)
        #expect(admission.holders(of: .boot).map(\.guest) == ["web1"])
        slot.release()
    }

    @Test("waiting counts in the operation's budget: the error comes at the deadline and names the holder")
    func waitingCountsInTheBudget() async throws {
        let admission = admission(boot: 1)
        let held = try await admission.acquire(.boot, guest: "db1", priority: 0, deadline: deadline(1), logger: logger)
        let started = ContinuousClock.now
        do {
            _ = try await admission.acquire(.boot, guest: "web1", priority: 0, deadline: deadline(0.4), logger: logger)
            Issue.record("acquired a slot that db1 holds")
        } catch let error as VMError {
            let waited = ContinuousClock.now - started
            #expect(error.code == .timedOut)
            #expect(error.message.contains("db1 (pid \(getpid()))"), "\(error.message)")
            #expect(error.message.contains("boot_slots"))
            #expect(waited >= .milliseconds(400))
            #expect(waited < .seconds(10))  // generous: parallel tests can hold the cooperative pool
        }
        // The failed waiter left no ticket behind.
        #expect(admission.waiters(for: .boot).isEmpty)
        held.release()
    }

    @Test("higher priority first, then first come")
    func priorityOrder() async throws {
        let admission = admission(boot: 1)
        let held = try await admission.acquire(
            .boot, guest: "holder", priority: 0, deadline: deadline(1), logger: logger)
        let order = Shared<[String]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (guest, priority) in [("low", 0), ("high", 10), ("low-later", 0), ("mid", 5)] {
                group.addTask {
                    let slot = try await admission.acquire(
                        .boot, guest: guest, priority: priority, deadline: deadline(20),
                        logger: logger)
                    order.withLock { $0.append(guest) }
                    try await Task.sleep(for: .milliseconds(100))
                    slot.release()
                }
                // Queue them in this order.
                while !admission.waiters(for: .boot).map(\.guest).contains(guest) {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            #expect(admission.waiters(for: .boot).map(\.guest) == ["high", "mid", "low", "low-later"])
            held.release()
            try await group.waitForAll()
        }
        #expect(order.withLock { $0 } == ["high", "mid", "low", "low-later"])
    }

    @Test("a dead waiter's ticket is dropped and blocks nobody")
    func deadWaiterIsDropped() async throws {
        let admission = admission(boot: 1)
        let queue = "\(admission.directory)/boot/queue"
        try FileManager.default.createDirectory(atPath: queue, withIntermediateDirectories: true)
        // A ticket of higher priority than ours whose waiter died: nobody holds its lock.
        let stale = "\(queue)/99_1_4242_ghost"
        #expect(FileManager.default.createFile(atPath: stale, contents: nil))
        let slot = try await admission.acquire(.boot, guest: "web1", priority: 0, deadline: deadline(2), logger: logger)
        #expect(!FileManager.default.fileExists(atPath: stale))
        slot.release()
    }

    @Test("kinds are counted apart")
    func kindsApart() async throws {
        let admission = admission(boot: 1)
        let boot = try await admission.acquire(.boot, guest: "a", priority: 0, deadline: deadline(1), logger: logger)
        let restore = try await admission.acquire(
            .restore, guest: "b", priority: 0, deadline: deadline(1), logger: logger)
        #expect(admission.holders(of: .boot).map(\.guest) == ["a"])
        #expect(admission.holders(of: .restore).map(\.guest) == ["b"])
        boot.release()
        restore.release()
    }

    @Test("the defaults follow the host: a boot per CPU, capped by memory")
    func defaults() {
        #expect(
            Admission.Limits.defaults(cpus: 8, availableMemoryMiB: 64 * 1024) == .init(boot: 8, restore: 2, save: 2))
        #expect(Admission.Limits.defaults(cpus: 8, availableMemoryMiB: 3 * 1024) == .init(boot: 3, restore: 2, save: 2))
        #expect(Admission.Limits.defaults(cpus: 1, availableMemoryMiB: 512) == .init(boot: 1, restore: 1, save: 1))
        #expect(Admission.Limits.defaults(cpus: 2, availableMemoryMiB: nil) == .init(boot: 2, restore: 2, save: 2))
    }

    @Test("settings: *_slots and priority, Pacemaker's priority meta attribute as the default")
    func settings() throws {
        let s = try GuestSettings.resolve(
            parameters: [
                "domain": "web1", "boot_slots": "3", "save_slots": "1",
                "CRM_meta_priority": "7",
            ], ignoringConfigFile: true)
        #expect(s.admissionLimits.boot == 3)
        #expect(s.admissionLimits.save == 1)
        #expect(s.admissionLimits.restore == Admission.Limits.defaults().restore)
        #expect(s.priority == 7)
        let own = try GuestSettings.resolve(
            parameters: ["domain": "web1", "priority": "-2", "CRM_meta_priority": "7"],
            ignoringConfigFile: true)
        #expect(own.priority == -2)
        #expect(throws: ConfigError.self) {
            _ = try GuestSettings.resolve(parameters: ["domain": "web1", "boot_slots": "0"], ignoringConfigFile: true)
        }
        #expect(throws: ConfigError.self) {
            _ = try GuestSettings.resolve(parameters: ["domain": "web1", "priority": "high"], ignoringConfigFile: true)
        }
    }
}

/// A value that concurrent test tasks update.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}
