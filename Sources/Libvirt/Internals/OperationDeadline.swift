/// The instant by which the whole current operation must be done, for every libvirt call made inside it.
///
/// A cluster operation (start, stop, monitor, migrate) has one budget. Giving each libvirt call a fixed
/// deadline of its own lets a hung daemon overrun that budget by the sum of them; a task-local deadline
/// makes every call's deadline the time truly left: ``BlockingCall`` waits at most until the earlier of
/// its own deadline and this one, and fails at once when this one has passed. Child tasks inherit it.
public enum OperationDeadline {
    @TaskLocal public static var current: ContinuousClock.Instant?

    /// Runs `body` with every libvirt call inside it bounded by `now + budget` (or an earlier deadline
    /// already in force).
    public static func within<T>(_ budget: Duration, _ body: () async throws -> T) async rethrows -> T {
        let end = ContinuousClock.now + budget
        let deadline = current.map { min($0, end) } ?? end
        return try await $current.withValue(deadline) { try await body() }
    }

    /// The time left before the operation's deadline, or nil outside any operation.
    public static var remaining: Duration? { current.map { $0 - ContinuousClock.now } }
}
