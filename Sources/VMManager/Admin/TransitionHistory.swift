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
    /// The last `limit` transitions of `guest`, oldest first, from the notifier's spool (`spool_dir` of
    /// `settings`).
    ///
    /// Returns no transitions until the notifier (issue 4) lands and this reads its spool: `vmctl status` then
    /// shows "none recorded" rather than anything invented.
    public static func recent(guest: String, settings: GuestSettings, limit: Int = 10) -> [TransitionRecord] {
        []
    }
}
