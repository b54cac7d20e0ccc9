import Foundation
import Synchronization
import Testing
@testable import Libvirt

/// The one thread spawner and the small shared-state helpers built on `Synchronization`.
@Suite("DedicatedThread and shared state")
struct DedicatedThreadTests {
    /// The name the kernel keeps for the calling thread.
    static func currentThreadName() -> String {
        ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .newlines)
    }

    @Test func runAwaitsTheValueOfANamedThreadOfItsOwn() async throws {
        let caller = pthread_self()
        let (name, other) = try await DedicatedThread.run(name: "vmm-test") {
            (Self.currentThreadName(), pthread_equal(pthread_self(), caller) == 0)
        }
        #expect(name == "vmm-test")
        #expect(other)
    }

    @Test func longNamesAreCutToWhatLinuxKeeps() async throws {
        let name = try await DedicatedThread.run(name: "a-thread-name-longer-than-fifteen") { Self.currentThreadName() }
        #expect(name == "a-thread-name-l")
        #expect(DedicatedThread.threadName("libvirt-events") == "libvirt-events")
        // Never inside a character: "é" is two bytes and would straddle byte 15.
        #expect(DedicatedThread.threadName("abcdefghijklmné") == "abcdefghijklmn")
    }

    @Test func startReturnsAtOnce() async throws {
        let done = AtomicFlag()
        try DedicatedThread.start(name: "vmm-start") {
            usleep(50_000)
            done.set()
        }
        #expect(!done.isSet)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while !done.isSet && clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(done.isSet)
    }

    @Test func onlyTheFirstResumeCounts() async {
        let results = await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
            let once = OnceContinuation(continuation)
            #expect(once.resume(returning: 1))
            #expect(!once.resume(returning: 2))
        }
        #expect(results == 1)
    }

    @Test func racingResumesResumeOnce() async throws {
        for _ in 0..<50 {
            let tally = Tally()
            let value = await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
                let once = OnceContinuation(continuation)
                for i in 0..<4 {
                    try? DedicatedThread.start(name: "vmm-race") { tally.record(won: once.resume(returning: i)) }
                }
            }
            #expect((0..<4).contains(value))
            // The losers may still be running; wait for all four to have tried.
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            while tally.value.tries < 4 && clock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
            #expect(tally.value == (wins: 1, tries: 4))
        }
    }
}

/// How many of the racers of `racingResumesResumeOnce` tried, and how many of them resumed.
private final class Tally: Sendable {
    private let state = Mutex((wins: 0, tries: 0))
    func record(won: Bool) {
        state.withLock {
            $0.tries += 1
            if won { $0.wins += 1 }
        }
    }
    var value: (wins: Int, tries: Int) { state.withLock { $0 } }
}
