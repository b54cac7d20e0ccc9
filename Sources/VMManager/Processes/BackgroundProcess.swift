import FoundationEssentials
import Libvirt
#if canImport(Glibc)
import Glibc
#endif

/// Starts a program that outlives its caller and is nobody's business: its own session (so the cluster
/// manager's kill of the agent's process group does not reach it), stdin, stdout and stderr on /dev/null (so
/// heartbeat or Pacemaker, reading the agent's output to its end, never wait for it), default signal handling.
enum BackgroundProcess {
    /// glibc's `POSIX_SPAWN_SETSID` (spawn.h, glibc 2.26 and later); Swift's Glibc module does not export it,
    /// since it sits behind `_GNU_SOURCE`. The value is part of glibc's ABI.
    private static let spawnSetSID: Int32 = 0x80

    /// Starts `executable` with `arguments` and returns its pid without waiting for it. A thread reaps it
    /// when it ends, so a long-lived caller (the watcher) collects no zombies; when no such thread can be
    /// created, the program is killed at once and this fails.
    static func spawnDetached(_ executable: String, _ arguments: [String]) -> Result<pid_t, SpoolError> {
        var attributes = SpawnAttributes(flags: spawnSetSID)
        defer { attributes.destroy() }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Descriptors the caller opened without O_CLOEXEC (a lock, a pipe to the cluster manager) must not
        // stay open in a process that may run for a minute.
        for fd in inheritableDescriptors() { posix_spawn_file_actions_addclose(&actions, fd) }

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = (argv + [nil]).withUnsafeBufferPointer { args in
            posix_spawn(&pid, executable, &actions, &attributes.value, args.baseAddress!, environ)
        }
        guard rc == 0 else {
            return .failure(SpoolError(message: "cannot start \(executable): \(String(cString: strerror(rc)))"))
        }
        do throws(DedicatedThread.StartError) {
            try reap(pid)
        } catch {
            // Nobody could reap it (a long-lived caller would keep a zombie): stop it before it does anything,
            // so that the failure reported is the whole truth.
            kill(pid, SIGKILL)
            while waitpid(pid, nil, 0) < 0 && errno == EINTR {}
            return .failure(SpoolError(message: "cannot start \(executable): \(error)"))
        }
        return .success(pid)
    }

    /// Open descriptors above 2 that an exec would keep.
    private static func inheritableDescriptors() -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return [] }
        return entries.compactMap { Int32($0) }.filter { fd in
            guard fd > 2 else { return false }
            let flags = fcntl(fd, F_GETFD)
            return flags >= 0 && flags & FD_CLOEXEC == 0
        }
    }

    private static func reap(_ pid: pid_t) throws(DedicatedThread.StartError) {
        try DedicatedThread.start(name: "reap-\(pid)") {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }
}

/// The posix_spawn attributes of every program vmmanager starts: default signal dispositions and an empty
/// signal mask (what the agent ignores or blocks must not leak into a user's script), plus `flags`.
struct SpawnAttributes {
    var value = posix_spawnattr_t()

    init(flags: Int32, processGroup: pid_t? = nil) {
        posix_spawnattr_init(&value)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&value, &defaults)
        posix_spawnattr_setsigmask(&value, &empty)
        var all = flags | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        if let processGroup {
            posix_spawnattr_setpgroup(&value, processGroup)
            all |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&value, Int16(all))
    }

    mutating func destroy() { posix_spawnattr_destroy(&value) }
}
