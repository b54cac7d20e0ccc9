import FoundationEssentials
import Libvirt
#if canImport(Glibc)
import Glibc
#endif

/// A program the agent runs and waits for — a user's monitor script, `crm_resource`, `csync2` — within a
/// deadline that is the time truly left in the operation. It runs in its own process group, with stdin
/// on /dev/null and stdout and stderr captured together (at most `outputLimit` bytes kept); at the
/// deadline the whole group is killed, so a script that hangs (or leaves a child holding the pipe)
/// costs the operation nothing beyond its budget.
public struct ExternalCommand: Sendable {
    public struct Outcome: Sendable {
        /// The exit status; nil when the program was killed at the deadline or by a signal.
        public let status: Int32?
        public let output: String
        public let timedOut: Bool
        public var succeeded: Bool { status == 0 }
    }

    public let executable: String
    public let arguments: [String]
    public var environment: [String: String]? = nil
    public var outputLimit = 4096
    /// Descriptors the program gets as 3, 4, …, in this order (all others it does not inherit: ours are
    /// close-on-exec). How a command is handed a container's namespaces.
    public var inheritedDescriptors: [Int32] = []

    public init(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
    }

    /// The absolute path of `name`: itself if it holds a `/`, else the first executable of that name in PATH.
    public static func resolve(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs the program and waits at most `timeout` for it to end, on a thread of its own (the wait blocks).
    /// - Throws: ``VMError`` `.failed` when it cannot be started at all (no thread for it included).
    public func run(timeout: Duration) async throws -> Outcome {
        let command = self
        let started: Result<Outcome, VMError>
        let program = executable.split(separator: "/").last.map(String.init) ?? executable
        do {
            started = try await DedicatedThread.run(name: "run-" + program) {
                command.runBlocking(timeout: timeout)
            }
        } catch {
            throw VMError(.failed, "cannot run \(executable): \(error)")
        }
        return try started.get()
    }

    private func runBlocking(timeout: Duration) -> Result<Outcome, VMError> {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            return .failure(VMError(.failed, "cannot run \(executable): pipe: \(String(cString: strerror(errno)))"))
        }
        // Not inherited by programs other threads start meanwhile (they would hold the pipe open).
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // Its own process group (pgid = its pid), so that the deadline's kill reaches what it started too.
        var attributes = SpawnAttributes(flags: 0, processGroup: 0)
        defer { attributes.destroy() }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        // Moved above the targets first, so that placing one at 3, 4, … never overwrites another still to come.
        let moved = inheritedDescriptors.map { fcntl($0, F_DUPFD_CLOEXEC, 100) }
        defer { for fd in moved where fd >= 0 { close(fd) } }
        if moved.contains(where: { $0 < 0 }) {
            close(fds[0])
            close(fds[1])
            return .failure(VMError(.failed, "cannot run \(executable): \(String(cString: strerror(errno)))"))
        }
        for (index, fd) in moved.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, Int32(3 + index)) }

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let env: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } }
        defer { env?.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = (argv + [nil]).withUnsafeBufferPointer { args in
            if let env {
                return (env + [nil]).withUnsafeBufferPointer { e in
                    posix_spawn(&pid, executable, &actions, &attributes.value, args.baseAddress!, e.baseAddress!)
                }
            }
            return posix_spawn(&pid, executable, &actions, &attributes.value, args.baseAddress!, environ)
        }
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            return .failure(VMError(.failed, "cannot run \(executable): \(String(cString: strerror(rc)))"))
        }

        let deadline = ContinuousClock.now + timeout
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var timedOut = false
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero {
                timedOut = true
                break
            }
            var p = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            let ms = Int32(
                clamping: max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            let ready = poll(&p, 1, ms)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let n = read(fds[0], &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            if output.count < outputLimit { output += buffer[0..<min(n, outputLimit - output.count)] }
        }
        close(fds[0])
        if timedOut { kill(-pid, SIGKILL) }
        var status: Int32 = 0
        var waited: pid_t
        repeat {
            waited = waitpid(pid, &status, timedOut ? 0 : WNOHANG)
            if waited == 0 {
                // Output closed but the program still runs (it closed its stdout): wait for the rest of the budget.
                if ContinuousClock.now >= deadline {
                    kill(-pid, SIGKILL)
                    timedOut = true
                    waited = waitpid(pid, &status, 0)
                    break
                }
                usleep(10_000)
            }
        } while waited == 0 || (waited < 0 && errno == EINTR)
        // What the program left running in its group has no business outliving it.
        kill(-pid, SIGKILL)
        let exited = (status & 0x7f) == 0
        let text = String(decoding: output, as: UTF8.self)
        return .success(
            Outcome(status: exited && !timedOut ? (status >> 8) & 0xff : nil, output: text, timedOut: timedOut))
    }
}
