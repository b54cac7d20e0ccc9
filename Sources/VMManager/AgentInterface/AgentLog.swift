import FoundationEssentials
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Where the agent's log lines go.
///
/// pacemaker-execd logs everything an agent writes on stderr as "error output", and heartbeat sends
/// stderr to its debug log: progress (info, notice) on stderr would read as an error at every start. So
/// when the cluster names a log (`HA_LOGFILE`/`HA_logfile`, else `HA_LOGFACILITY`/`HA_logfacility`: what
/// heartbeat and Pacemaker export to their agents, the variables resource-agents' `ha_log` reads),
/// progress and warnings go there, and stderr keeps only errors (besides the `ocf-exit-reason:` line): a
/// warning the agent copes with (libvirtd restarting, a peer unreachable) must not read as the agent's
/// error output in Pacemaker's log. Run by hand, everything goes to stderr.
struct AgentLogHandler: LogHandler {
    enum Sink: Sendable {
        case file(String)
        case syslog(facility: Int32)
        case standardError
    }

    let label: String
    let progress: Sink
    /// Where errors (and, run by hand, progress) are written.
    let output: AgentOutput
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The sink for progress lines that `environment` asks for.
    static func progressSink(_ environment: [String: String]) -> Sink {
        let file = environment["HA_LOGFILE"] ?? environment["HA_logfile"] ?? environment["HA_DEBUGLOG"]
        if let file, !file.isEmpty, file != "none", file.hasPrefix("/") { return .file(file) }
        let facility = environment["HA_LOGFACILITY"] ?? environment["HA_logfacility"]
        if let facility, !facility.isEmpty, facility != "none" { return .syslog(facility: Self.facility(facility)) }
        return .standardError
    }

    static func facility(_ name: String) -> Int32 {
        let table: [String: Int32] = [
            "daemon": LOG_DAEMON, "user": LOG_USER, "local0": LOG_LOCAL0,
            "local1": LOG_LOCAL1, "local2": LOG_LOCAL2, "local3": LOG_LOCAL3,
            "local4": LOG_LOCAL4, "local5": LOG_LOCAL5, "local6": LOG_LOCAL6,
            "local7": LOG_LOCAL7, "authpriv": LOG_AUTHPRIV,
        ]
        return table[name.lowercased()] ?? LOG_DAEMON
    }

    func log(event: LogEvent) {
        emit(level: event.level, message: event.message, metadata: event.metadata)
    }

    /// The entry point of swift-log before `log(event:)`: kept so that a caller still using it (or an older
    /// swift-log's default bridge) reaches the same lines.
    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        emit(level: level, message: message, metadata: metadata)
    }

    private func emit(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?) {
        var all = metadata
        if let extra { all.merge(extra) { $1 } }
        // One line, whatever the message holds: a guest name with a line break must not forge log lines.
        let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = ("\(level) \(message)" + (fields.isEmpty ? "" : " " + fields))
            .map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 }
        let body = String(text)
        if level >= .error {
            output.standardError("\(label): \(body)\n")
            if case .standardError = progress { return }
        }
        switch progress {
        case .standardError:
            output.standardError("\(label): \(body)\n")
        case .file(let path):
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else { return output.standardError("\(label): \(body)\n") }
            let stamp = EventText.iso8601(Date())
            let lineText = "\(stamp) \(label)[\(getpid())]: \(body)\n"
            _ = lineText.withCString { Glibc.write(fd, $0, strlen($0)) }
            close(fd)
        case .syslog(let facility):
            let priority: Int32 =
                switch level {
                case .trace, .debug: LOG_DEBUG
                case .info: LOG_INFO
                case .notice: LOG_NOTICE
                case .warning: LOG_WARNING
                case .error: LOG_ERR
                case .critical: LOG_CRIT
                }
            openlog("vmmanager", LOG_PID, facility)
            body.withCString { text in withVaList([text]) { vsyslog(priority, "%s", $0) } }
        }
    }
}
