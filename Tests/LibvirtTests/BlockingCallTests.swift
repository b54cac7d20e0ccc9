import Foundation
import Synchronization
import Testing
@testable import Libvirt

/// The deadline every libvirt call runs under, and what becomes of an answer that comes after it.
@Suite("BlockingCall")
struct BlockingCallTests {
    @Test func anAnswerInTimeIsReturnedAndNotDiscarded() async throws {
        let discarded = Mutex<[Int]>([])
        let value = try await BlockingCall.run(
            "test-call", target: nil, timeout: .seconds(10), discard: { late in discarded.withLock { $0.append(late) } }
        ) { () throws(LibvirtError) -> Int in 7 }
        #expect(value == 7)
        try await Task.sleep(for: .milliseconds(50))
        #expect(discarded.withLock { $0 }.isEmpty)
    }

    @Test func anAnswerAfterTheDeadlineIsHandedToDiscard() async throws {
        let discarded = Mutex<[Int]>([])
        // The caller is told of the timeout, not handed the value (which would mean it waited for it).
        do {
            let value = try await BlockingCall.run(
                "test-call", target: "late", timeout: .milliseconds(50),
                discard: { late in discarded.withLock { $0.append(late) } }
            ) { () throws(LibvirtError) -> Int in
                usleep(300_000)
                return 42
            }
            Issue.record("the caller waited for the late answer (\(value))")
        } catch { #expect(error.code == .timedOut) }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while discarded.withLock({ $0 }).isEmpty && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(discarded.withLock { $0 } == [42])
    }

    @Test func aLateFailureHasNothingToDiscard() async throws {
        let discarded = Mutex<Int>(0)
        let finished = AtomicFlag()
        do {
            _ = try await BlockingCall.run(
                "test-call", target: nil, timeout: .milliseconds(20), discard: { _ in discarded.withLock { $0 += 1 } }
            ) { () throws(LibvirtError) -> Int in
                defer { finished.set() }
                usleep(100_000)
                throw LibvirtError(code: .internalError, message: "failed late", operation: "test-call", target: nil)
            }
            Issue.record("a call past its deadline returned")
        } catch { #expect(error.code == .timedOut) }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while !finished.isSet && clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(20))
        #expect(discarded.withLock { $0 } == 0)
    }
}
