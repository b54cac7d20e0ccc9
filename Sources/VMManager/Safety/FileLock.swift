import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// vmmanager's one lock: an exclusive `flock` on a file. The kernel drops it when the holder dies, so a
/// crashed agent never leaves a stale lock behind, and it works across processes (the agent, `vmctl`, two
/// agents started by a confused cluster) as well as between two descriptors of one process.
///
/// Used for the per-guest lock (`<lock_dir>/<guest>.lock`, held during every action on the guest) and for
/// the node's admission slots (``Admission``).
public final class FileLock: Sendable {
    /// The locked file's descriptor, -1 once released: `release` may race with itself (an explicit call and
    /// deinit, two callers), and the descriptor must be closed exactly once.
    private let descriptor: Mutex<Int32>
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = Mutex(descriptor)
        self.path = path
    }

    deinit { release() }

    /// The per-guest lock, waited for at most `timeout`.
    /// - Throws: ``VMError`` `.timedOut` naming the holder's action when another process holds it that long,
    ///   `.failed` when the lock file cannot be created.
    public static func acquire(
        guest: String, directory: String, timeout: Duration, purpose: String
    ) async throws -> FileLock {
        do { try DurableFile.createDirectory(directory, mode: 0o755) } catch {
            throw VMError(.failed, "cannot create the lock directory (lock_dir): \(error)")
        }
        let safe = guest.map { $0 == "/" ? "_" : $0 }
        let path = directory + "/" + String(safe) + ".lock"
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if let lock = try tryAcquire(path) {
                lock.note("\(purpose) by pid \(getpid())")
                return lock
            }
            if clock.now >= deadline {
                let holder = (readFile(path) ?? "").trimmed
                throw VMError(
                    .timedOut,
                    "guest \(guest) is busy: another vmmanager action holds \(path) "
                        + "(\(holder.isEmpty ? "unknown" : holder)) for more than \(timeout.formattedSeconds)")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Takes the lock on `path` (creating the file) if nobody holds it; nil when somebody does.
    /// - Throws: ``VMError`` `.failed` when the file cannot be opened or locked for another reason.
    public static func tryAcquire(_ path: String) throws -> FileLock? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw VMError(.failed, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let failure = errno
            close(fd)
            if failure == EWOULDBLOCK { return nil }
            throw VMError(.failed, "cannot lock \(path): \(String(cString: strerror(failure)))")
        }
        return FileLock(descriptor: fd, path: path)
    }

    /// Whether some descriptor (of any process) holds the lock on `path`. A shared, non-blocking probe: it
    /// never makes the holder wait and never creates the file.
    public static func isHeld(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    /// Replaces the file's text with `text`: who holds it and why, for error messages and `vmctl slots`.
    public func note(_ text: String) {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            let line = text + "\n"
            _ = ftruncate(fd, 0)
            _ = line.withCString { pwrite(fd, $0, strlen($0), 0) }
        }
    }

    /// Releases the lock (also done when the object goes away or the process ends).
    public func release() {
        descriptor.withLock { descriptor in
            if descriptor >= 0 {
                flock(descriptor, LOCK_UN)
                close(descriptor)
                descriptor = -1
            }
        }
    }
}
