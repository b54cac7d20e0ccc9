import FoundationEssentials
import Libvirt
import Logging
import VMManager
#if canImport(Glibc)
import Glibc
#endif

/// OCF 1.1 exit codes.
enum OCF: Int32 {
    case success = 0, errGeneric = 1, errArgs = 2, errUnimplemented = 3, errPerm = 4, errInstalled = 5
    case errConfigured = 6, notRunning = 7
}

/// The resource agent's two faces: OCF (Pacemaker) and heartbeat v1 (haresources `vmmanager::guest`).
@main
enum Agent {
    /// The OCF face's usage line, from the action table.
    static var ocfUsage: String {
        "usage: vmmanager {" + AgentAction.advertised.map(\.rawValue).joined(separator: "|") + "}\n"
    }

    /// Both faces' usage, from the action table.
    static var usage: String {
        let heartbeat = AgentAction.heartbeatListed.map(\.rawValue).joined(separator: "|")
        return ocfUsage + """
                     (OCF resource agent: parameters in OCF_RESKEY_*)
                   vmmanager <guest> [key=value ...] {\(heartbeat)}
                     (heartbeat v1: haresources line `node vmmanager::<guest>[::key=value]`)
                   vmmanager --version
            <guest> is a libvirt domain name or a domain XML path relative to vm_dir (e.g. web1/web1.xml).

            """
    }

    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let environment = ProcessInfo.processInfo.environment
        let isOCF = environment["OCF_ROOT"] != nil || environment["OCF_RESOURCE_INSTANCE"] != nil
            || environment.keys.contains { $0.hasPrefix("OCF_RESKEY_") }
        let code: Int32
        if arguments == ["--version"] {
            // Not an OCF action and never a heartbeat v1 line (those end in start, stop or status).
            writeStandardOutput("vmmanager \(vmmanagerVersion)\n")
            code = OCF.success.rawValue
        } else if arguments.count == 1, arguments[0] == AgentAction.metaData.rawValue || isOCF {
            // Under OCF every single argument is an action; unknown ones get OCF_ERR_UNIMPLEMENTED.
            code = await OCFMode(action: arguments[0], environment: environment).run()
        } else if arguments.count >= 2, let last = arguments.last, let action = AgentAction(heartbeat: last) {
            code = await HeartbeatMode(guest: arguments[0], assignments: Array(arguments.dropFirst().dropLast()),
                                       action: action, environment: environment).run()
        } else {
            writeStandardError(usage)
            code = arguments.count == 1 && AgentAction(rawValue: arguments[0]) != nil ? OCF.errConfigured.rawValue
                : OCF.errArgs.rawValue
        }
        exit(code)
    }

    static func logger(_ environment: [String: String]) -> Logger {
        let sink = AgentLogHandler.progressSink(environment)
        var logger = Logger(label: "vmmanager") { AgentLogHandler(label: $0, progress: sink) }
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

/// Writes straight to file descriptor 2 (unbuffered, so the order with libvirt's threads is kept).
func writeStandardError(_ text: String) { writeAll(2, text) }

/// stdout is read by the cluster manager (meta-data, heartbeat's status word): only results go there.
func writeStandardOutput(_ text: String) { writeAll(1, text) }

private func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return }
        bytes = bytes.dropFirst(n)
    }
}
