// The resource agent as installed (`vmmanager`, the OCF agent `guest`, heartbeat's `vmmanager`): a front that
// links AgentWire and Glibc only. Pacemaker runs it at every monitor interval for every guest; a process that
// maps libvirt's libraries costs ~13 ms before it does anything, so a monitor is asked of the node's
// `vmctl watch` (its monitor server runs the agent's own code, live against libvirt) and every other action, and
// every monitor watch does not answer in time, runs the full agent (`vmmanager-agent`) with the same arguments
// and environment.
import AgentWire
#if canImport(Glibc)
import Glibc
#endif

@main
enum Front {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let last = arguments.last, last == "monitor" || last == "status" {
            var environment = relevantEnvironment()
            // The operation's end, for watch and for the full agent after a wait: their budget is the time left.
            if environment[HandedDeadline.variable] == nil {
                let deadline = HandedDeadline.value(after: timeout(environment))
                setenv(HandedDeadline.variable, deadline, 1)
                environment[HandedDeadline.variable] = deadline
            }
            switch ask(MonitorWire.Request(arguments: arguments, environment: environment)) {
            case .answer(let code, let out, let err):
                trace("answered by vmctl watch")
                write(1, out)
                write(2, err)
                exit(code)
            case .fallBack(let reason):
                trace("running the full agent: \(reason)")
            }
        }
        runFullAgent()
    }

    /// The server's answer, or why the full agent must run: no socket, refused, no answer within the bound,
    /// a malformed answer, or the server's own "fall back".
    static func ask(_ request: MonitorWire.Request) -> MonitorWire.Response {
        let socketPath = MonitorSocket.path(
            configPath: MonitorSocket.configPath(
                arguments: request.arguments,
                environment: request.environment))
        let deadline = ContinuousClock.now + bound(request.environment)
        guard let fd = MonitorSocket.connect(socketPath) else { return .fallBack(reason: "no server at \(socketPath)") }
        defer { close(fd) }
        guard MonitorSocket.send(request.encoded(), to: fd, deadline: deadline) else {
            return .fallBack(reason: "the request could not be sent")
        }
        guard let payload = MonitorSocket.receiveFrame(from: fd, deadline: deadline) else {
            return .fallBack(reason: "no answer in time")
        }
        return MonitorWire.Response(payload: payload) ?? .fallBack(reason: "a malformed answer")
    }

    /// How long the front waits for the server: min(1 s, a quarter of the operation's timeout) for a monitor of
    /// the libvirt state, half the timeout for deeper check levels (they ping the guest agent, probe a port),
    /// leaving the full agent the rest.
    static func bound(_ environment: [String: String]) -> Duration {
        let timeout = timeout(environment)
        let depth = environment["OCF_CHECK_LEVEL"].flatMap(Int.init) ?? 0
        return depth > 0 ? timeout / 2 : min(.seconds(1), timeout / 4)
    }

    /// The operation's timeout: Pacemaker's, else a monitor's default (as the agent reads it).
    static func timeout(_ environment: [String: String]) -> Duration {
        OperationTimeout.given(environment) ?? OperationTimeout.monitorDefault
    }

    /// The full agent, in place of this process: same arguments, same environment.
    static func runFullAgent() -> Never {
        let candidates = fullAgentCandidates()
        for path in candidates {
            execv(path, CommandLine.unsafeArgv)
        }
        write(2, "vmmanager: the full agent is not installed (no \(candidates.joined(separator: ", ")))\n")
        exit(5)  // OCF_ERR_INSTALLED
    }

    /// Where the full agent is: `../lib/vmmanager/vmmanager-agent` from this executable (resolved, so the OCF
    /// and heartbeat links find it), next to it (the build directory), then the two usual prefixes.
    static func fullAgentCandidates() -> [String] {
        var paths: [String] = []
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 {
            let exe = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let slash = exe.lastIndex(of: "/") {
                let dir = String(exe[..<slash])
                paths += [dir + "/../lib/vmmanager/vmmanager-agent", dir + "/vmmanager-agent"]
            }
        }
        return paths + ["/usr/lib/vmmanager/vmmanager-agent", "/usr/local/lib/vmmanager/vmmanager-agent"]
    }

    /// The environment entries the agent's code reads (``MonitorWire/isRelevant(_:)``).
    static func relevantEnvironment() -> [String: String] {
        var environment: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let eq = text.firstIndex(of: "="), MonitorWire.isRelevant(String(text[..<eq])) {
                environment[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            entry += 1
        }
        return environment
    }

    /// With VMMANAGER_TRACE set: who answered, on stderr.
    static func trace(_ text: String) {
        guard let value = getenv("VMMANAGER_TRACE"), value.pointee != 0, String(cString: value) != "0" else { return }
        write(2, "vmmanager: \(text)\n")
    }

    static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}
