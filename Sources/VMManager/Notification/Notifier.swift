import FoundationEssentials
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Records transitions durably and delivers them by e-mail and webhook, never in the way of the cluster.
///
/// The split is the point: ``record(_:)`` only writes the event to the spool (a few milliseconds, no network)
/// and never throws, so an agent's start or stop cannot fail or wait because a mail server is down. Delivery
/// (`deliverPending(waitForOtherFlush:)`, in the VMManagerDelivery module, which only vmctl links: the agent
/// never loads libcurl) happens afterwards — in a detached `vmctl notify flush`
/// (``spawnBackgroundFlush(executable:configPath:)``), in the watcher, or by hand — and an event leaves the
/// spool only once every target accepted it. Delivery is at least once: a target that accepted an event is
/// not tried again, but a crash between its answer and the spool update resends it; the event id lets
/// receivers drop the duplicate.
///
/// ```swift
/// let notifier = Notifier.load(configPath: "/etc/vmmanager/vmmanager.conf", logger: logger)
/// notifier.recordAndFlush(event, flushExecutable: "/usr/sbin/vmctl")   // returns in milliseconds
/// ```
public final class Notifier: Sendable {
    /// The configuration read, or nil when there is none (then notifications are off).
    public let configuration: ConfigFile?
    /// Why the configuration could not be used, if it could not; events are still spooled (to
    /// ``spoolDirectory``) and wait for the file to be fixed.
    public let configurationError: ConfigError?
    /// The file the configuration came from (also when it could not be parsed); the detached flush reads it.
    public let configPath: String?
    /// Where events wait: `spool_dir` of `[notify]`, else `/var/spool/vmmanager`.
    public let spoolDirectory: String
    public let logger: Logger
    package let spool: Spool

    /// - Parameters:
    ///   - configuration: vmmanager.conf, parsed; nil for none.
    ///   - spoolDirectory: overrides `spool_dir` (tests, benchmarks).
    public init(configuration: ConfigFile?, spoolDirectory: String? = nil, logger: Logger = Notifier.silent) {
        self.configuration = configuration
        self.configPath = configuration?.path
        self.logger = logger
        var error: ConfigError?
        var directory = NotifySettings.defaultSpoolDirectory
        do { directory = try NotifySettings.resolve(file: configuration, guest: nil).spoolDirectory } catch let e {
            error = e
            // Even a broken [notify] section must not lose events: use its spool_dir if it names one.
            if let raw = configuration?.entries(of: "notify").first(where: { $0.key == "spool_dir" })?.value,
               raw.hasPrefix("/")
            {
                directory = raw
            }
        }
        self.configurationError = error
        self.spoolDirectory = spoolDirectory ?? directory
        self.spool = Spool(directory: self.spoolDirectory)
    }

    /// A logger that logs nothing (the library logs only where it is given a logger).
    public static let silent = Logger(label: "vmmanager.notify", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Reads `configPath` (a missing file means no configuration: notifications off). Never throws: a file
    /// that does not parse is kept as ``configurationError`` and reported by every flush.
    public static func load(configPath: String = NotifySettings.defaultConfigPath, spoolDirectory: String? = nil,
                            logger: Logger = Notifier.silent) -> Notifier {
        do {
            let file = try ConfigFile.load(configPath)
            return Notifier(configuration: file, spoolDirectory: spoolDirectory, logger: logger)
        } catch where error.kind == .notFound {
            return Notifier(configuration: nil, spoolDirectory: spoolDirectory, logger: logger)
        } catch {
            let notifier = Notifier(configuration: nil, spoolDirectory: spoolDirectory, logger: logger)
            return Notifier(broken: error, path: configPath, from: notifier)
        }
    }

    private init(broken error: ConfigError, path: String, from other: Notifier) {
        configuration = nil
        configPath = path
        configurationError = error
        spoolDirectory = other.spoolDirectory
        spool = other.spool
        logger = other.logger
    }

    /// The settings that apply to `guest` (nil: the node's, for cluster events).
    public func settings(forGuest guest: String?) throws(ConfigError) -> NotifySettings {
        if let configurationError { throw configurationError }
        var s = try NotifySettings.resolve(file: configuration, guest: guest)
        s.spoolDirectory = spoolDirectory
        return s
    }

    // MARK: Recording

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
            logger.error("cannot spool a notification", metadata: [
                "event.id": "\(event.id.uuidString.lowercased())", "transition": "\(event.transition)",
                "error": "\(error.message)",
            ])
            return .failed(error.message)
        }
        if event.source != .watcher, let guest = event.guest { markAction(on: guest) }
        if let guest = event.guest { appendHistory(event, guest: guest) }
        logger.info("notification spooled", metadata: [
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
                logger.warning("cannot start the background flush; the event stays spooled",
                               metadata: ["error": "\(e)"])
            }
        }
        return outcome
    }

    /// Starts `<executable> notify flush --background [--config PATH]` in its own session with stdin, stdout
    /// and stderr on /dev/null, and returns at once with its pid.
    @discardableResult
    public static func spawnBackgroundFlush(executable: String, configPath: String? = nil)
        -> Result<Int32, SpoolError>
    {
        BackgroundProcess.spawnDetached(executable, ["notify", "flush", "--background"]
            + (configPath.map { ["--config", $0] } ?? []))
    }

    /// `name` in the directory of the running executable, e.g. the `vmctl` installed next to the agent.
    public static func siblingExecutable(_ name: String) -> String {
        let path = currentExecutable
        guard let slash = path.lastIndex(of: "/") else { return "/usr/sbin/\(name)" }
        return String(path[...slash]) + name
    }

    /// The running executable (`/proc/self/exe`).
    public static var currentExecutable: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments.first ?? "vmctl" }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
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

    /// The transitions recorded for `guest`, oldest first, at most `limit` — delivered or not (`vmctl status`
    /// shows them). Kept per guest in `<spool_dir>/.history/<guest>.jsonl`, trimmed to the last 200.
    public func history(guest: String, limit: Int = 10) -> [TransitionEvent] {
        guard limit > 0, let data = FileContents.read(historyPath(guest)) else { return [] }
        let decoder = JSONDecoder()
        let lines = data.split(separator: UInt8(ascii: "\n"))
        return lines.suffix(limit).compactMap { try? decoder.decode(TransitionEvent.self, from: Data($0)) }
    }

    private func historyPath(_ guest: String) -> String {
        "\(spoolDirectory)/.history/\(Self.fileSafe(guest)).jsonl"
    }

    /// One line per event; informational, so no fsync. Past 256 KiB the file is cut to its last 200 lines.
    private func appendHistory(_ event: TransitionEvent, guest: String) {
        guard var line = try? JSONEncoder().encode(event) else { return }
        line.append(UInt8(ascii: "\n"))
        let path = historyPath(guest)
        var fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 {
            mkdir("\(spoolDirectory)/.history", 0o700)
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else { return }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size > 256 * 1024, let data = FileContents.read(path)
        else { return }
        let kept = data.split(separator: UInt8(ascii: "\n")).suffix(200).map { Data($0) + Data([UInt8(ascii: "\n")]) }
        let temporary = path + ".tmp"
        if FileManager.default.createFile(atPath: temporary, contents: kept.reduce(Data(), +)) {
            rename(temporary, path)
        }
    }

    /// When a cluster action last reported on `guest`, if ever.
    package func lastAction(on guest: String) -> Date? {
        var st = stat()
        guard stat("\(spoolDirectory)/.actions/\(Self.fileSafe(guest))", &st) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }

    package static func fileSafe(_ name: String) -> String {
        String(name.map { $0 == "/" ? "_" : $0 })
    }

    /// The events waiting in the spool, oldest first.
    public func pending() -> [SpoolEntry] { spool.entries() }
}
