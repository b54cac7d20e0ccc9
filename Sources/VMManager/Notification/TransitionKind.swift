/// What happened to a guest (or the cluster): the kind of a ``Transition`` and of a ``TransitionEvent``.
///
/// Its raw values are what the spool, the mails and the webhooks carry. The agent, the watcher and Pacemaker's
/// alerts add kinds over time, so a raw value this build does not know is kept as ``other(_:)`` (a spooled event
/// of a newer or older kind must still be delivered, with its kind as written).
public enum TransitionKind: RawRepresentable, Codable, Sendable, Hashable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    /// The guest was started (booted or resumed) and is ready.
    case up
    /// The guest was stopped by the cluster (saved, shut down or destroyed).
    case down
    /// The guest was live-migrated to another node.
    case migrated
    /// The guest crashed (guest panic, or its QEMU process died).
    case crashed
    /// The guest was restored from its saved image: users' sessions survived.
    case resumedFromSaved
    /// The saved image could not be restored; it was kept aside and the guest cold-booted.
    case restoreFailedColdBooted
    /// A saved image was not restored because it is not the guest's latest state (saved before the guest
    /// came up elsewhere, its disks changed since, a node-local image): it was moved to quarantine and the
    /// guest cold-booted. The details say which image, from which node, how old, and why.
    case staleImageDiscarded
    /// A stop saved the guest while another saved image already stood in its place: two nodes ran it
    /// (split brain). Both images are kept; the next start waits for an admin's choice.
    case savedStateConflict
    /// The stop chain had to go further than planned (shutdown or destroy instead of save).
    case stopEscalated
    /// A start failed.
    case startFailed
    /// The guest shut itself down (from inside), outside any cluster action.
    case shutDownByGuest
    /// The guest was paused (by hand, outside any cluster action).
    case paused
    /// QEMU paused the guest because a disk returned an I/O error.
    case pausedIOError
    /// The guest's watchdog fired and QEMU paused it.
    case pausedWatchdog
    /// A paused guest runs again, outside any cluster action.
    case resumed
    /// Pacemaker: a cluster node left the membership.
    case nodeLost
    /// Pacemaker: a cluster node joined the membership.
    case nodeJoined
    /// Pacemaker: a node was fenced.
    case fenced
    /// Pacemaker: fencing a node failed.
    case fencingFailed
    /// `vmctl watch` saw the guest fail and told Pacemaker at once (`crm_resource --fail`).
    case recoveryRequested
    /// `vmctl watch` saw the guest fail and started it again on this node (heartbeat v1's local restart).
    case restartedLocally
    /// The guest failed more often than `local_restarts` allows: its group was handed to the peer.
    case handedToPeer
    /// `vmctl notify test`.
    case test
    /// A kind this build has no name for (a Pacemaker operation's `<task>-failed`, a spooled event written by
    /// another version), kept as written.
    case other(String)

    /// The named kinds, each with its raw value.
    public static let named: [TransitionKind] = [
        .up, .down, .migrated, .crashed, .resumedFromSaved, .restoreFailedColdBooted, .staleImageDiscarded,
        .savedStateConflict, .stopEscalated, .startFailed, .shutDownByGuest, .paused, .pausedIOError,
        .pausedWatchdog, .resumed, .nodeLost, .nodeJoined, .fenced, .fencingFailed, .recoveryRequested,
        .restartedLocally, .handedToPeer, .test,
    ]

    private static let byRawValue: [String: TransitionKind] = Dictionary(
        uniqueKeysWithValues: named.map { ($0.rawValue, $0) })

    /// Never fails: a raw value without a name becomes ``other(_:)``.
    public init(rawValue: String) {
        self = Self.byRawValue[rawValue] ?? .other(rawValue)
    }

    public init(stringLiteral value: String) { self.init(rawValue: value) }

    public var rawValue: String {
        switch self {
        case .up: "up"
        case .down: "down"
        case .migrated: "migrated"
        case .crashed: "crashed"
        case .resumedFromSaved: "resumed-from-saved"
        case .restoreFailedColdBooted: "restore-failed-cold-booted"
        case .staleImageDiscarded: "stale-image-discarded"
        case .savedStateConflict: "saved-state-conflict"
        case .stopEscalated: "stop-escalated"
        case .startFailed: "start-failed"
        case .shutDownByGuest: "shut-down-by-guest"
        case .paused: "paused"
        case .pausedIOError: "paused-io-error"
        case .pausedWatchdog: "paused-watchdog"
        case .resumed: "resumed"
        case .nodeLost: "node-lost"
        case .nodeJoined: "node-joined"
        case .fenced: "fenced"
        case .fencingFailed: "fencing-failed"
        case .recoveryRequested: "recovery-requested"
        case .restartedLocally: "restarted-locally"
        case .handedToPeer: "handed-to-peer"
        case .test: "test"
        case .other(let raw): raw
        }
    }

    public var description: String { rawValue }

    /// Kinds are equal when their raw values are: `.other("up")` is `.up`.
    public static func == (a: TransitionKind, b: TransitionKind) -> Bool { a.rawValue == b.rawValue }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
