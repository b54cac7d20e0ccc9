import FoundationEssentials
import Synchronization

/// An up/down transition the agent hands to the notifier. Handing it over never blocks or fails the
/// action that caused it.
public struct Transition: Sendable {
    /// `up`, `down`, `migrated`, `resumed-from-saved`, `restore-failed-cold-booted`, `stop-escalated`,
    /// `start-failed`, ... (the event's kind as the notifier spools it).
    public var kind: TransitionKind
    public var guest: String
    public var uuid: UUID?
    public var reason: String
    public var previousState: String?
    public var newState: String?
    public var configPath: String?
    public var restoreDuration: Duration?
    public var bootWaitDuration: Duration?
    public var migrationDowntimeMilliseconds: UInt64?
    /// The guest's own uptime when it was read (the thesis's mails carried it): after a resume it shows
    /// that the guest did not reboot.
    public var guestUptime: Duration?
    /// Facts for the admin (the saved image, where it was saved, the clock correction), mailed as "Details".
    public var details: [String: String] = [:]

    public init(
        kind: TransitionKind, guest: String, uuid: UUID?, reason: String, previousState: String? = nil,
        newState: String? = nil, configPath: String? = nil
    ) {
        self.kind = kind
        self.guest = guest
        self.uuid = uuid
        self.reason = reason
        self.previousState = previousState
        self.newState = newState
        self.configPath = configPath
    }
}

/// Where transitions go. The agent's reporter records them in the notifier's spool.
public protocol TransitionReporter: Sendable {
    func report(_ transition: Transition)
}

/// Keeps transitions in memory (for tests and for callers that report them themselves).
public final class CollectingReporter: TransitionReporter, Sendable {
    private let items = Mutex<[Transition]>([])
    public init() {}
    public func report(_ transition: Transition) { items.withLock { $0.append(transition) } }
    public var transitions: [Transition] { items.withLock { $0 } }
}
