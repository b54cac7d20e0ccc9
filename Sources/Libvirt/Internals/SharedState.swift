import Synchronization

/// A continuation that several parties race to resume — a call that returns and the deadline that passes, a
/// body that answers and a timer — of which only the first does; the values of the others are dropped.
///
/// A `CheckedContinuation` must be resumed exactly once: a second resume is a crash, and none leaves the
/// awaiting task suspended forever. Whoever comes first takes it out of the mutex, so no two can have it.
package final class OnceContinuation<T: Sendable>: Sendable {
    private let pending: Mutex<CheckedContinuation<T, Never>?>

    package init(_ continuation: CheckedContinuation<T, Never>) { pending = Mutex(continuation) }

    /// Resumes the continuation with `value` unless someone already did; returns whether this call did.
    @discardableResult
    package func resume(returning value: T) -> Bool {
        guard let continuation = pending.withLock({ $0.take() }) else { return false }
        continuation.resume(returning: value)
        return true
    }
}

/// A flag that one party sets, once, and others read from other threads or tasks (a job that finished, a
/// cancellation to notice on a thread that is not a task).
package final class AtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)

    package init() {}

    package func set() { value.store(true, ordering: .releasing) }
    package var isSet: Bool { value.load(ordering: .acquiring) }
}
