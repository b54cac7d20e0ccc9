import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Recording: an event written durably to the spool, and the mark of the action that reported it (the watcher
/// leaves the libvirt events of that action alone).
extension Notifier {
    public enum RecordOutcome: Sendable, Equatable {
        /// Written durably to this file.
        case spooled(String)
        /// Nothing is configured for this guest (no mail_to, no webhook_url): nothing to do.
        case disabled
        /// The spool could not be written (the reason is logged and returned).
        case failed(String)
    }

    /// Writes `event` durably to the spool: temporary file, fsync, rename, fsync of the directory. No network,
    /// no waiting on another process; returns in milliseconds and never throws. A configuration that cannot be
    /// read does not stop it (the event waits for the file to be fixed); only a guest for which no target is
    /// configured is skipped.
    @discardableResult
    public func record(_ event: TransitionEvent) -> RecordOutcome {
        if let s = try? settings(forGuest: event.guest), !s.isEnabled { return .disabled }
        let name = Spool.fileName(for: event)
        do {
            try spool.write(SpooledEvent(event: event), name: name)
        } catch {
            logger.error(
                "cannot spool a notification",
                metadata: [
                    "event.id": "\(event.id.uuidString.lowercased())", "transition": "\(event.transition)",
                    "error": "\(error.message)",
                ])
            return .failed(error.message)
        }
        if event.source != .watcher, let guest = event.guest { markAction(on: guest) }
        if let guest = event.guest { appendHistory(event, guest: guest) }
        logger.info(
            "notification spooled",
            metadata: [
                "event.id": "\(event.id.uuidString.lowercased())", "transition": "\(event.transition)",
                "domain.name": "\(event.guest ?? "-")",
            ])
        return .spooled("\(spoolDirectory)/\(name)")
    }

    /// Records `event`, then starts a detached `vmctl notify flush` to deliver it. What the agent calls at the end
    /// of an action: both steps return in milliseconds, whatever the state of the mail server.
    /// - Parameter flushExecutable: the `vmctl` to run (see ``siblingExecutable(_:)``).
    @discardableResult
    public func recordAndFlush(_ event: TransitionEvent, flushExecutable: String) -> RecordOutcome {
        let outcome = record(event)
        if case .spooled = outcome {
            let spawned = Self.spawnBackgroundFlush(executable: flushExecutable, configPath: configPath)
            if case .failure(let e) = spawned {
                logger.warning(
                    "cannot start the background flush; the event stays spooled",
                    metadata: ["error": "\(e)"])
            }
        }
        return outcome
    }

    /// Remembers that a cluster action (or vmctl) just reported on `guest`, so the watcher does not report the
    /// libvirt events that action caused a second time (see `LifecycleWatcher` in VMManagerDelivery).
    private func markAction(on guest: String) {
        let directory = "\(spoolDirectory)/.actions"
        let path = "\(directory)/\(Self.fileSafe(guest))"
        var fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 {
            mkdir(directory, 0o700)
            fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else { return }
        futimens(fd, nil)
        close(fd)
    }

    /// When a cluster action last reported on `guest`, if ever.
    package func lastAction(on guest: String) -> Date? {
        var st = stat()
        guard stat("\(spoolDirectory)/.actions/\(Self.fileSafe(guest))", &st) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }
}
