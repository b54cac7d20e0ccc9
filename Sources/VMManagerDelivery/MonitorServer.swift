import AgentWire
import Libvirt
import Logging
import ServiceLifecycle
import Synchronization
import VMManager
#if canImport(Glibc)
import Glibc
#endif

/// `vmctl watch`'s monitor server, as a `Service`: answers the agent's monitors on `<lock_dir>/monitor.sock` so
/// that a monitor does not start a process that maps libvirt's libraries.
///
/// The agent's front (`vmmanager`) sends what it was given (its arguments and the `OCF_*`/`HA_*` environment,
/// ``MonitorWire/Request``); the server runs exactly what the agent runs for it (``AgentInvocation``), live
/// against libvirt, and answers the exit code and what the agent would have printed. Anything but a monitor
/// (OCF `monitor`/`status`, heartbeat `status`) is answered "fall back": the front then runs the full agent.
/// Each monitor is bounded by its operation's timeout. Monitors share one open libvirt connection
/// (``SharedConnections``), so a monitor costs libvirt's calls and not a new connection's handshake.
///
/// The socket is mode 0600, owned by the user running watch, and only that user or root may ask. A stale
/// socket (no server behind it) is replaced at start; a live one (another watch) is left alone and this server
/// stays idle. While the lock directory does not exist, the server looks for it again every 5 s. The socket is
/// removed on shutdown.
public final class MonitorServer: Service, Sendable {
    public let path: String
    public let logger: Logger
    /// Monitors answered since start.
    public var answered: Int { answeredCount.load(ordering: .relaxed) }
    /// At most this many monitors run at once; more are told to fall back.
    public static let concurrencyLimit = 32

    /// Monitors come many times a minute: each reuses one open libvirt connection instead of a handshake.
    public let connections: SharedConnections
    private let answeredCount = Atomic<Int>(0)
    private let running = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    public init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
        self.connections = SharedConnections(logger: logger)
    }

    /// The server of the node whose configuration file is `configPath`: `<lock_dir of [global]>/monitor.sock`,
    /// where the agent's front looks.
    public convenience init(configPath: String, logger: Logger) {
        self.init(path: MonitorSocket.path(configPath: configPath), logger: logger)
    }

    /// Serves until a graceful shutdown or cancellation. Runs once per server.
    public func run() async {
        var listener: Int32?
        while listener == nil {
            switch listen() {
            case .listening(let fd):
                listener = fd
            case .noDirectory:
                // The lock directory appears with the first action of the agent (or tmpfiles.d at boot).
                let slept: Void? = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
                if slept == nil || Task.isShuttingDownGracefully { return }
            case .unavailable:
                try? await gracefulShutdown()
                return
            }
        }
        guard let listener else { return }
        logger.debug("monitor server listening", metadata: ["socket": "\(path)"])
        async let acceptorEnded: Void = withCheckedContinuation { (ended: CheckedContinuation<Void, Never>) in
            do {
                try DedicatedThread.start(name: "monitor-accept") { [self] in
                    acceptLoop(listener)
                    ended.resume()
                }
            } catch {
                logger.error("monitor server: \(error); monitors run the full agent")
                ended.resume()
            }
        }
        // Returns at the graceful shutdown, throws at cancellation: either way the acceptor stops.
        try? await gracefulShutdown()
        stopping.store(true, ordering: .relaxed)
        await acceptorEnded
        close(listener)
        var ours = stat()
        if lstat(path, &ours) == 0, ours.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
        logger.debug("monitor server stopped", metadata: ["answered": "\(answered)"])
    }

    /// The listening socket at ``path``, mode 0600: bound under a temporary name, then renamed over the path
    /// (which replaces a stale socket, and never leaves the socket reachable with a wider mode).
    private enum Listening {
        case listening(Int32)
        /// The socket's directory does not exist (yet).
        case noDirectory
        /// Another server listens there, or the socket cannot be made: monitors run the full agent.
        case unavailable
    }

    private func listen() -> Listening {
        if let live = MonitorSocket.connect(path) {
            close(live)
            logger.warning("another monitor server listens on \(path); this one stays idle")
            return .unavailable
        }
        var directory = stat()
        let parent = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        guard stat(parent.isEmpty ? "/" : parent, &directory) == 0 else {
            logger.debug("monitor server waits for its directory \(parent)")
            return .noDirectory
        }
        let fd = socket(
            AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return fail("socket") }
        let temporary = "\(path).\(getpid()).new"
        unlink(temporary)
        var address = sockaddr_un()
        guard let length = MonitorSocket.fill(&address, temporary) else {
            close(fd)
            logger.error("monitor server: the socket path \(path) is too long; monitors run the full agent")
            return .unavailable
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, chmod(temporary, 0o600) == 0, Glibc.listen(fd, 64) == 0, rename(temporary, path) == 0 else {
            let failure = fail("bind \(temporary)")
            unlink(temporary)
            close(fd)
            return failure
        }
        return .listening(fd)
    }

    private func fail(_ what: String) -> Listening {
        logger.error("monitor server: \(what): \(String(cString: strerror(errno))); monitors run the full agent")
        return .unavailable
    }

    /// Accepts connections until ``stopping``; each request is read here (it is sent at once) and answered by
    /// a task of its own.
    private func acceptLoop(_ listener: Int32) {
        while !stopping.load(ordering: .relaxed) {
            guard MonitorSocket.wait(listener, for: Int16(POLLIN), until: .now + .milliseconds(200)) else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            guard isTrusted(fd),
                let payload = MonitorSocket.receiveFrame(from: fd, deadline: .now + .milliseconds(500)),
                let request = MonitorWire.Request(payload: payload)
            else {
                close(fd)
                continue
            }
            guard running.add(1, ordering: .relaxed).newValue <= Self.concurrencyLimit else {
                running.subtract(1, ordering: .relaxed)
                reply(.fallBack(reason: "busy"), fd, deadline: .now + .milliseconds(100))
                continue
            }
            Task { [self] in
                let response = await answer(request)
                reply(response, fd, deadline: .now + .seconds(1))
                running.subtract(1, ordering: .relaxed)
            }
        }
    }

    /// Whether the peer is the user running watch, or root.
    private func isTrusted(_ fd: Int32) -> Bool {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (Glibc hides it behind _GNU_SOURCE).
        var credentials: [UInt32] = [0, UInt32.max, UInt32.max]
        var size = socklen_t(3 * MemoryLayout<UInt32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0 else { return false }
        return credentials[1] == 0 || credentials[1] == geteuid()
    }

    private func reply(_ response: MonitorWire.Response, _ fd: Int32, deadline: ContinuousClock.Instant) {
        _ = MonitorSocket.send(response.encoded(), to: fd, deadline: deadline)
        close(fd)
    }

    /// What the agent would answer to `request`, within the operation's timeout.
    public func answer(_ request: MonitorWire.Request) async -> MonitorWire.Response {
        let invocation = AgentInvocation(arguments: request.arguments, environment: request.environment)
        guard invocation.isMonitor else { return .fallBack(reason: "not a monitor") }
        let printed = Shared((out: "", err: ""))
        let output = AgentOutput(
            standardOutput: { text in printed.value.withLock { $0.out += text } },
            standardError: { text in printed.value.withLock { $0.err += text } })
        let code = await connections.withShared {
            await Self.run(invocation, output: output, within: invocation.operationTimeout)
        }
        guard let code else { return .fallBack(reason: "the monitor outlasted its timeout") }
        answeredCount.add(1, ordering: .relaxed)
        let (out, err) = printed.value.withLock { $0 }
        logger.debug(
            "answered a monitor",
            metadata: [
                "arguments": "\(request.arguments)", "code": "\(code)",
                "resource": "\(request.environment["OCF_RESOURCE_INSTANCE"] ?? "-")",
            ])
        return .answer(code: code, standardOutput: out, standardError: err)
    }

    /// The invocation's exit code, or nil when it has not ended within `timeout` (it is then cancelled, and
    /// its answer would come too late for the front anyway).
    private static func run(
        _ invocation: AgentInvocation, output: AgentOutput, within timeout: Duration
    ) async -> Int32? {
        await withCheckedContinuation { (done: CheckedContinuation<Int32?, Never>) in
            let pending = Shared<CheckedContinuation<Int32?, Never>?>(done)
            let timer = Task {
                // Cancelled when the invocation has ended: it has answered already.
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                pending.value.withLock { $0.take() }?.resume(returning: nil)
            }
            Task {
                let code = await invocation.run(output: output)
                pending.value.withLock { $0.take() }?.resume(returning: code)
                timer.cancel()
            }
        }
    }
}

/// A value behind a lock that escaping closures can share.
private final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}
