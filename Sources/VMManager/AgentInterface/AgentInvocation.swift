import AgentWire
import FoundationEssentials
import Libvirt
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// OCF 1.1 exit codes.
public enum OCF: Int32, Sendable {
    case success = 0, errGeneric = 1, errArgs = 2, errUnimplemented = 3, errPerm = 4, errInstalled = 5
    case errConfigured = 6, notRunning = 7
}

/// Where what the agent prints goes: the process's stdout and stderr when it runs as the agent, buffers when
/// `vmctl watch`'s monitor server runs a monitor for the agent's front (which prints them itself).
public struct AgentOutput: Sendable {
    /// stdout is read by the cluster manager (meta-data, heartbeat's status word): only results go there.
    public let standardOutput: @Sendable (String) -> Void
    public let standardError: @Sendable (String) -> Void

    public init(
        standardOutput: @escaping @Sendable (String) -> Void,
        standardError: @escaping @Sendable (String) -> Void
    ) {
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// File descriptors 1 and 2, unbuffered (so the order with libvirt's threads is kept).
    public static let process = AgentOutput(standardOutput: { writeAll(1, $0) }, standardError: { writeAll(2, $0) })

    private static func writeAll(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// The resource agent's two faces, OCF (Pacemaker) and heartbeat v1 (haresources `vmmanager::guest`): one
/// command line and environment in, an exit code and output out. The agent executable runs it for every
/// action; `vmctl watch`'s monitor server runs it for the monitors the agent's front hands it, so both
/// answer with the same code.
public struct AgentInvocation: Sendable {
    /// What a command line asks for, decided as the agent decides it.
    public enum Face: Sendable, Equatable {
        case version
        /// An OCF action argument (an action only when ``AgentAction`` has it).
        case ocf(String)
        case heartbeat(guest: String, assignments: [String], action: AgentAction)
        case usage
    }

    /// The arguments after the program's name.
    public let arguments: [String]
    public let environment: [String: String]

    public init(arguments: [String], environment: [String: String]) {
        self.arguments = arguments
        self.environment = environment
    }

    /// The OCF face's usage line, from the action table.
    public static var ocfUsage: String {
        "usage: vmmanager {" + AgentAction.advertised.map(\.rawValue).joined(separator: "|") + "}\n"
    }

    /// Both faces' usage, from the action table.
    public static var usage: String {
        let heartbeat = AgentAction.heartbeatListed.map(\.rawValue).joined(separator: "|")
        return ocfUsage + """
                     (OCF resource agent: parameters in OCF_RESKEY_*)
                   vmmanager <guest> [key=value ...] {\(heartbeat)}
                     (heartbeat v1: haresources line `node vmmanager::<guest>[::key=value]`)
                   vmmanager --version
            <guest> is a libvirt domain name or a domain XML path relative to vm_dir (e.g. web1/web1.xml).

            """
    }

    public var face: Face {
        let isOCF =
            environment["OCF_ROOT"] != nil || environment["OCF_RESOURCE_INSTANCE"] != nil
            || environment.keys.contains { $0.hasPrefix("OCF_RESKEY_") }
        if arguments == ["--version"] {
            // Not an OCF action and never a heartbeat v1 line (those end in start, stop or status).
            return .version
        } else if arguments.count == 1, arguments[0] == AgentAction.metaData.rawValue || isOCF {
            // Under OCF every single argument is an action; unknown ones get OCF_ERR_UNIMPLEMENTED.
            return .ocf(arguments[0])
        } else if arguments.count >= 2, let last = arguments.last, let action = AgentAction(heartbeat: last) {
            return .heartbeat(guest: arguments[0], assignments: Array(arguments.dropFirst().dropLast()), action: action)
        }
        return .usage
    }

    /// Whether this is a monitor (OCF `monitor` or `status`, heartbeat `status`): what the monitor server answers.
    public var isMonitor: Bool {
        switch face {
        case .ocf(let action): action == AgentAction.monitor.rawValue || action == AgentAction.status.rawValue
        case .heartbeat(_, _, let action): action == .status || action == .monitor
        case .version, .usage: false
        }
    }

    /// The operation's timeout: Pacemaker's `OCF_RESKEY_CRM_meta_timeout` (ms), else the monitor's 20 s; at most
    /// the time left before a deadline the agent's front handed on (``HandedDeadline``).
    public var operationTimeout: Duration {
        Self.bounded(OperationTimeout.given(environment) ?? OperationTimeout.monitorDefault, environment)
    }

    /// `timeout`, or the time left before the deadline handed on in `environment` when that is shorter.
    static func bounded(_ timeout: Duration, _ environment: [String: String]) -> Duration {
        HandedDeadline.remaining(environment).map { min($0, timeout) } ?? timeout
    }

    /// Runs the action and returns the agent's exit code; everything printed goes to `output`.
    public func run(output: AgentOutput = .process) async -> Int32 {
        // Every libvirt call inside ends by the deadline the front handed on, whatever the action's own budget.
        guard let left = HandedDeadline.remaining(environment) else { return await perform(output: output) }
        return await OperationDeadline.within(left) { await perform(output: output) }
    }

    private func perform(output: AgentOutput) async -> Int32 {
        switch face {
        case .version:
            output.standardOutput("vmmanager \(vmmanagerVersion)\n")
            return OCF.success.rawValue
        case .ocf(let action):
            return await OCFMode(action: action, environment: environment, output: output).run()
        case .heartbeat(let guest, let assignments, let action):
            return await HeartbeatMode(
                guest: guest, assignments: assignments, action: action,
                environment: environment, output: output
            ).run()
        case .usage:
            output.standardError(Self.usage)
            return arguments.count == 1 && AgentAction(rawValue: arguments[0]) != nil
                ? OCF.errConfigured.rawValue
                : OCF.errArgs.rawValue
        }
    }

    static func logger(_ environment: [String: String], output: AgentOutput) -> Logger {
        let sink = AgentLogHandler.progressSink(environment)
        var logger = Logger(label: "vmmanager") { AgentLogHandler(label: $0, progress: sink, output: output) }
        logger.logLevel = environment["OCF_TRACE_RA"].map { $0 != "0" && !$0.isEmpty } == true ? .trace : .info
        if let instance = environment["OCF_RESOURCE_INSTANCE"] { logger[metadataKey: "resource"] = "\(instance)" }
        return logger
    }

    /// The OCF code for an error thrown by an action: by its ``VMError/Code``, any other error is generic.
    static func code(for error: any Error) -> OCF {
        guard let error = VMError(classifying: error) else { return .errGeneric }
        switch error.code {
        case .invalidInput, .misconfigured: return .errConfigured
        case .notInstalled: return .errInstalled
        case .permission: return .errPerm
        default: return .errGeneric
        }
    }
}
