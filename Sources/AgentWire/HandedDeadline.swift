// The operation's timeout as Pacemaker gives it, and its deadline, handed from the agent's front to the full agent
// it execs.
#if canImport(Glibc)
import Glibc
#endif

/// When the front has waited for `vmctl watch` and then runs the full agent, part of the operation's timeout
/// is gone. The front passes the instant the operation must end by, so that the full agent's budget is the time
/// truly left and not the whole timeout again. The instant is CLOCK_MONOTONIC in nanoseconds: the same clock in
/// every process of the machine, unaffected by changes of the wall clock.
public enum HandedDeadline {
    /// The environment variable holding the deadline.
    public static let variable = "VMMANAGER_OPERATION_DEADLINE_NS"

    /// CLOCK_MONOTONIC now, in nanoseconds.
    public static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The value of ``variable`` for a deadline `budget` from now.
    public static func value(after budget: Duration) -> String {
        let (seconds, attoseconds) = budget.components
        let nanoseconds = max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        return String(now() + UInt64(nanoseconds))
    }

    /// The time left before the deadline in `environment`: nil when none was handed (or it cannot be read),
    /// zero once it has passed.
    public static func remaining(_ environment: [String: String]) -> Duration? {
        guard let text = environment[variable], let deadline = UInt64(text) else { return nil }
        let current = now()
        return deadline > current ? .nanoseconds(Int64(deadline - current)) : .zero
    }
}

/// The operation's timeout as the cluster gives it, read the same way by the agent's front and the agent.
public enum OperationTimeout {
    /// A monitor's timeout when the cluster gives none (heartbeat v1, a hand-run agent).
    public static let monitorDefault: Duration = .seconds(20)

    /// Pacemaker's `OCF_RESKEY_CRM_meta_timeout` (ms), or nil outside Pacemaker.
    public static func given(_ environment: [String: String]) -> Duration? {
        environment["OCF_RESKEY_CRM_meta_timeout"].flatMap(Int64.init).map { .milliseconds($0) }
    }
}
