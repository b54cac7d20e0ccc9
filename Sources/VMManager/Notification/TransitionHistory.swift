import FoundationEssentials

/// A transition as the notifier recorded it: what happened, and when.
public struct TransitionRecord: Sendable {
    public let time: Date
    public let transition: Transition

    public init(time: Date, transition: Transition) {
        self.time = time
        self.transition = transition
    }
}

/// The transitions recorded for a guest, for `vmctl status`.
public enum TransitionHistory {
    /// The last `limit` transitions of `guest` that the notifier recorded on this node (delivered or not),
    /// from its spool (`spool_dir` of the configuration).
    public static func recent(guest: String, settings: GuestSettings, limit: Int = 10) -> [TransitionRecord] {
        Notifier(configuration: settings.file).history(guest: guest, limit: limit).map {
            TransitionRecord(time: $0.timestamp, transition: Transition($0))
        }
    }
}
