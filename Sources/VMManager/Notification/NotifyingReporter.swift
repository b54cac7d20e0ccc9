import FoundationEssentials
import Logging

extension TransitionEvent {
    /// The event of a transition the agent reported at the end of a cluster action.
    public init(
        _ t: Transition, source: Source = .agent, node: String = TransitionEvent.localNode,
        guestUptimeSeconds: Double? = nil
    ) {
        let guestUptimeSeconds = guestUptimeSeconds ?? t.guestUptime?.inSeconds
        self.init(
            transition: t.kind, guest: t.guest, guestUUID: t.uuid, reason: t.reason, node: node,
            previousState: t.previousState, newState: t.newState, guestUptimeSeconds: guestUptimeSeconds,
            configPath: t.configPath,
            durations: Durations(
                restoreSeconds: t.restoreDuration?.inSeconds,
                bootWaitSeconds: t.bootWaitDuration?.inSeconds,
                migrationDowntimeMilliseconds: t.migrationDowntimeMilliseconds),
            source: source, details: t.details)
    }
}

extension Transition {
    /// The agent's view of a recorded event (for `vmctl status`'s history).
    public init(_ e: TransitionEvent) {
        self.init(
            kind: e.transition, guest: e.guest ?? e.resource ?? e.clusterNode ?? "", uuid: e.guestUUID,
            reason: e.reason, previousState: e.previousState, newState: e.newState, configPath: e.configPath)
        restoreDuration = e.durations.restoreSeconds.map { .milliseconds(Int64(($0 * 1000).rounded())) }
        bootWaitDuration = e.durations.bootWaitSeconds.map { .milliseconds(Int64(($0 * 1000).rounded())) }
        migrationDowntimeMilliseconds = e.durations.migrationDowntimeMilliseconds
        details = e.details
    }
}

/// Hands the agent's transitions to the notifier: record (durable, milliseconds), then a detached
/// `vmctl notify flush` delivers them. Neither step can fail or delay the action that reported.
public struct NotifyingReporter: TransitionReporter {
    public let notifier: Notifier
    /// The `vmctl` that flushes; nil records only (the next flush delivers).
    public let flushExecutable: String?
    /// `.agent` for the resource agent, `.vmctl` for an admin's command.
    public let source: TransitionEvent.Source
    public let logger: Logger

    /// - Parameters:
    ///   - flushExecutable: by default the `vmctl` installed next to the running executable.
    ///   - source: who acts (`.agent`, or `.vmctl` for an admin's command).
    ///   - logger: gets one `transition` line per transition (notice), as the agent's log always had.
    public init(
        notifier: Notifier, flushExecutable: String? = Notifier.siblingExecutable("vmctl"),
        source: TransitionEvent.Source = .agent, logger: Logger = Notifier.silent
    ) {
        self.notifier = notifier
        self.flushExecutable = flushExecutable
        self.source = source
        self.logger = logger
    }

    public func report(_ transition: Transition) {
        let event = TransitionEvent(transition, source: source)
        logger.notice(
            "transition",
            metadata: [
                "transition": "\(transition.kind)", "domain.name": "\(transition.guest)",
                "reason": "\(transition.reason)",
                "event.id": "\(event.id.uuidString.lowercased())",
            ])
        let outcome: Notifier.RecordOutcome
        if let flushExecutable {
            outcome = notifier.recordAndFlush(event, flushExecutable: flushExecutable)
        } else {
            outcome = notifier.record(event)
        }
        if case .failed(let why) = outcome {
            logger.error("the transition could not be spooled for notification", metadata: ["error": "\(why)"])
        }
    }
}
