import Libvirt
import Logging
import Synchronization

/// Connections a long-running process keeps open, one per libvirt URI, for the agent code it runs.
///
/// A resource agent process connects, asks, and ends: opening the connection (the RPC handshake with
/// libvirtd) is a large part of a monitor's cost. `vmctl watch` runs the agent's monitors for the agent's
/// front (``AgentInvocation``) many times a minute; with sharing enabled, ``GuestController`` reuses one open
/// connection instead. Nothing is cached but the connection: every monitor still asks libvirt live.
///
/// A connection is reused only while `virConnectIsAlive` says it works; keepalive (5 s × 3) marks it dead when
/// libvirtd stops answering, and a restarted libvirtd closes it, so the next caller opens a new one. Calls on
/// a shared connection keep their own deadlines (the operation's time left, ``OperationDeadline``): a hung
/// libvirtd makes a shared monitor time out exactly as a fresh connection's would.
///
/// Scoped, not global: a server runs its invocations inside ``withShared(_:)``; code elsewhere in the same
/// process (an agent, a test) opens its own connections.
public final class SharedConnections: Sendable {
    /// The connections the current task's agent code reuses, if any.
    @TaskLocal public static var current: SharedConnections?

    private let open = Mutex<[String: Hypervisor]>([:])
    private let opened = Atomic<Int>(0)
    private let logger: Logger

    /// - Parameter logger: where the shared connections log (they outlive the invocations that opened them).
    public init(logger: Logger) {
        self.logger = logger
    }

    /// How many connections were opened since start (a test's and a benchmark's view of reuse).
    public var openedCount: Int { opened.load(ordering: .relaxed) }

    /// Runs `body` with ``GuestController`` reusing these connections, in it and in the tasks it starts.
    public func withShared<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        try await Self.$current.withValue(self) { try await body() }
    }

    /// The open connection to `uri`, or a new one.
    /// - Throws: ``VMError`` when a new connection cannot be opened (as ``Hypervisor/connect``).
    func hypervisor(_ uri: String, timeout: Duration) async throws -> Hypervisor {
        if let kept = open.withLock({ $0[uri] }) {
            if await kept.connection.isAlive() { return kept }
            open.withLock { if $0[uri] === kept { $0[uri] = nil } }
            logger.info(
                "the kept libvirt connection no longer works; opening a new one", metadata: ["libvirt.uri": "\(uri)"])
        }
        // Calls are bounded by their operation's deadline; the connection's own 30 s is only an upper bound.
        let fresh = try await Hypervisor.connect(
            uri, timeout: max(.seconds(30), timeout), keepAlive: true, logger: logger)
        opened.add(1, ordering: .relaxed)
        // Two callers may both have opened one: the first kept wins, the other is dropped (and closed).
        return open.withLock { kept in
            if let other = kept[uri] { return other }
            kept[uri] = fresh
            return fresh
        }
    }
}
