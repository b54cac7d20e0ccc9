import FoundationEssentials
import Logging

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
    public static func load(
        configPath: String = NotifySettings.defaultConfigPath, spoolDirectory: String? = nil,
        logger: Logger = Notifier.silent
    ) -> Notifier {
        do {
            let file = try ConfigFile.load(configPath)
            return Notifier(configuration: file, spoolDirectory: spoolDirectory, logger: logger)
        } catch  where error.kind == .notFound {
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

    package static func fileSafe(_ name: String) -> String {
        String(name.map { $0 == "/" ? "_" : $0 })
    }

    /// The events waiting in the spool, oldest first.
    public func pending() -> [SpoolEntry] { spool.entries() }
}
