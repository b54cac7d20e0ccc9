import FoundationEssentials
import Libvirt
#if canImport(Glibc)
import Glibc
#endif

/// How vmmanager decides that a guest has really booted. The thesis's script waited for this before
/// letting heartbeat start the next VM, so that hosts were not overloaded by parallel boots.
public enum ReadinessProbe: Sendable, Hashable, CustomStringConvertible {
    /// Do not wait: ready as soon as libvirt says running.
    case none
    /// The QEMU guest agent answers `guest-ping`.
    case guestAgent
    /// A line of the guest's serial console log (its first `<serial type='file'>`) matches the pattern,
    /// among the lines written since the start began.
    case serialLine(pattern: String)
    /// A TCP port accepts connections.
    case tcpPort(host: String, port: UInt16)
    /// The thesis's timer: ready `coldBoot` after a cold boot, `resumed` after a resume or restore.
    case uptime(coldBoot: Duration, resumed: Duration)
    /// The admin's `monitor_scripts` all succeed (`readiness=monitor-scripts`).
    case scripts(MonitorScripts)
    /// A command run by `/bin/sh -c` inside the container exits 0 (containers only: ``ContainerCommand``).
    case command(String)

    public var description: String {
        switch self {
        case .none: "none"
        case .guestAgent: "guest-agent"
        case .serialLine(let pattern): "serial:\(pattern)"
        case .tcpPort(let host, let port): "tcp:\(host):\(port)"
        case .uptime(let cold, let resumed): "uptime:\(cold.components.seconds)/\(resumed.components.seconds)"
        case .scripts: "monitor-scripts"
        case .command(let command): "exec:\(command)"
        }
    }
}

/// The `readiness` setting: a probe, or `auto` (decided by the guest's XML).
public enum ReadinessSetting: Sendable, Hashable, CustomStringConvertible {
    case auto
    case probe(ReadinessProbe)

    public struct ParseError: Error, Sendable { public let message: String }

    /// Parses `auto`, `none`, `guest-agent`, `serial:REGEX`, `tcp:HOST:PORT`, `uptime:N[/M]`,
    /// `monitor-scripts` (with the scripts of `monitor_scripts`), `exec:COMMAND`.
    public static func parse(
        _ text: String, scripts: MonitorScripts = MonitorScripts([])
    ) throws(ParseError) -> ReadinessSetting {
        let usage =
            "use auto, none, guest-agent, serial:REGEX, tcp:HOST:PORT, uptime:N/M, monitor-scripts or exec:COMMAND"
        switch text {
        case "auto": return .auto
        case "monitor-scripts":
            guard !scripts.paths.isEmpty else {
                throw ParseError(message: "readiness monitor-scripts needs monitor_scripts to name at least one script")
            }
            return .probe(.scripts(scripts))
        case "none": return .probe(.none)
        case "guest-agent", "agent": return .probe(.guestAgent)
        default: break
        }
        if text.hasPrefix("serial:") {
            let pattern = String(text.dropFirst("serial:".count))
            guard !pattern.isEmpty, (try? Regex(pattern)) != nil else {
                throw ParseError(message: "'\(ConfigError.excerpt(pattern))' is not a valid regular expression")
            }
            return .probe(.serialLine(pattern: pattern))
        }
        if text.hasPrefix("exec:") {
            let command = String(text.dropFirst("exec:".count))
            guard command.contains(where: { !$0.isWhitespace }) else {
                throw ParseError(message: "exec needs a command, e.g. exec:test -e /run/app.ready")
            }
            return .probe(.command(command))
        }
        if text.hasPrefix("tcp:") {
            let rest = text.dropFirst("tcp:".count)
            guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0,
                colon > rest.startIndex
            else { throw ParseError(message: "tcp needs HOST:PORT, e.g. tcp:192.0.2.10:22") }
            return .probe(.tcpPort(host: String(rest[..<colon]), port: port))
        }
        if text.hasPrefix("uptime:") {
            let parts = text.dropFirst("uptime:".count).split(separator: "/")
            guard (1...2).contains(parts.count), let cold = Int(parts[0]), cold >= 0,
                let resumed = parts.count == 2 ? Int(parts[1]) : 0, resumed >= 0
            else {
                throw ParseError(
                    message: "uptime needs seconds after a cold boot and after a resume, e.g. uptime:60/15")
            }
            return .probe(.uptime(coldBoot: .seconds(cold), resumed: .seconds(resumed)))
        }
        throw ParseError(message: "unknown readiness '\(ConfigError.excerpt(text))'; \(usage)")
    }

    /// The probe for a guest: `auto` waits for the guest agent when the XML has its channel.
    public func probe(for definition: DomainDefinition?) -> ReadinessProbe {
        switch self {
        case .probe(let p): p
        case .auto: definition?.hasGuestAgentChannel == true ? .guestAgent : .none
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .probe(let p): p.description
        }
    }
}

/// What a readiness wait needs to know about the start that preceded it.
public struct BootContext: Sendable {
    /// True after a cold boot, false after a resume or restore.
    public var coldBoot: Bool
    /// The serial console log and its size before the start (only new lines count).
    public var serialLog: String?
    public var serialOffset: UInt64

    public init(coldBoot: Bool, serialLog: String? = nil, serialOffset: UInt64 = 0) {
        self.coldBoot = coldBoot
        self.serialLog = serialLog
        self.serialOffset = serialOffset
    }
}

/// Waits until a guest is ready by its ``ReadinessProbe``, within a deadline.
public enum BootWait {
    /// Returns how long the wait took.
    /// - Throws: ``VMError`` `.timedOut` when the deadline passes, `.failed` when the guest stops while
    ///   we wait (it crashed or was shut down: waiting longer would not help).
    @discardableResult
    public static func waitUntilReady(
        _ domain: Domain, probe: ReadinessProbe, timeout: Duration, context: BootContext = BootContext(coldBoot: true),
        pollInterval: Duration = .milliseconds(250)
    ) async throws -> Duration {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + timeout
        if case .none = probe { return .zero }
        var last = "no answer yet"
        var serial = SerialFollower(path: context.serialLog, offset: context.serialOffset)
        let regex: Regex<AnyRegexOutput>?
        if case .serialLine(let pattern) = probe { regex = try? Regex(pattern) } else { regex = nil }
        while true {
            let state = try await libvirt("reading the state of \(domain.name)") { try await domain.state() }
            guard state.isActive else {
                throw VMError(.failed, "guest \(domain.name) stopped while waiting for it to be ready: \(state)")
            }
            if state.kind == .running {
                switch probe {
                case .none:
                    return .zero
                case .guestAgent:
                    do {
                        try await domain.pingAgent(timeout: min(.seconds(2), max(.seconds(1), deadline - clock.now)))
                        return clock.now - started
                    } catch { last = error.message }
                case .serialLine(let pattern):
                    guard context.serialLog != nil else {
                        throw VMError(
                            .invalidInput,
                            "readiness serial:\(pattern) needs a <serial type='file'> in "
                                + "\(domain.name)'s XML")
                    }
                    if let regex, serial.newLines().contains(where: { (try? regex.firstMatch(in: $0)) != nil }) {
                        return clock.now - started
                    }
                    last = "no console line matched /\(pattern)/"
                case .tcpPort(let host, let port):
                    switch await TCPProbe.connect(host: host, port: port, timeout: .seconds(1)) {
                    case nil: return clock.now - started
                    case let why?: last = why
                    }
                case .uptime(let cold, let resumed):
                    if clock.now - started >= (context.coldBoot ? cold : resumed) { return clock.now - started }
                    last = "waiting out the timer"
                case .scripts(let scripts):
                    let share = min(.seconds(30), max(.milliseconds(100), deadline - clock.now))
                    guard let why = await scripts.firstFailure(guest: domain.name, timeout: share) else {
                        return clock.now - started
                    }
                    last = why
                case .command(let command):
                    let share = min(.seconds(10), max(.milliseconds(100), deadline - clock.now))
                    guard let why = try await ContainerCommand.firstFailure(command, in: domain, timeout: share) else {
                        return clock.now - started
                    }
                    last = why
                }
            }
            // Checked after the pause, not before the next state read: a probe may use the time up to the
            // deadline, and the reason must then be the probe's, not a libvirt call refused for lack of time.
            if clock.now < deadline { try await Task.sleep(for: min(pollInterval, deadline - clock.now)) }
            if clock.now >= deadline {
                throw VMError(
                    .timedOut,
                    "guest \(domain.name) was not ready (\(probe)) within "
                        + "\(timeout.formattedSeconds): \(last)" + hint(probe))
            }
        }
    }

    private static func hint(_ probe: ReadinessProbe) -> String {
        switch probe {
        case .guestAgent:
            ". Is qemu-guest-agent running in the guest, and does its XML have the "
                + "org.qemu.guest_agent.0 channel?"
        default: ""
        }
    }
}

/// Reads the lines appended to a log file since an offset.
struct SerialFollower {
    let path: String?
    var offset: UInt64
    var partial = ""

    mutating func newLines() -> [String] {
        guard let path, let data = FileContents.read(path) else { return [] }
        guard UInt64(data.count) > offset else { return [] }
        let text = partial + String(decoding: data[Int(offset)...], as: UTF8.self)
        offset = UInt64(data.count)
        // "\r\n" is one Character in Swift: split on it as well as on "\n" (serial consoles write CRLF).
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map {
            String($0.hasSuffix("\r") ? $0.dropLast() : $0)
        }
        partial = lines.removeLast()
        return lines
    }

    /// The size of the file now (0 when it does not exist).
    static func size(of path: String) -> UInt64 {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_size) : 0
    }
}

extension Duration {
    /// "1.25 s" — for messages and tables.
    public var formattedSeconds: String {
        let s = inSeconds
        if s >= 100 { return "\(Int(s.rounded())) s" }
        return "\((s * 100).rounded() / 100) s"
    }

    /// The duration in seconds.
    public var inSeconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
