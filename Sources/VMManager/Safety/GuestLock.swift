import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A per-guest lock that serialises everything acting on one guest on this node: the agent's actions,
/// `vmctl`, two agents started by a confused cluster. It is an `flock` on `<lock_dir>/<guest>.lock`,
/// so the kernel drops it when the holder dies — a crashed agent never leaves a stale lock behind.
public final class GuestLock: Sendable {
    /// The locked file's descriptor, -1 once released: `release` may race with itself (an explicit call and
    /// deinit, two callers), and the descriptor must be closed exactly once.
    private let descriptor: Mutex<Int32>
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = Mutex(descriptor)
        self.path = path
    }

    deinit { release() }

    /// Waits at most `timeout` for the lock.
    /// - Throws: ``VMError`` `.timedOut` naming the holder's action when another process holds it that long,
    ///   `.failed` when the lock file cannot be created.
    public static func acquire(guest: String, directory: String, timeout: Duration, purpose: String) async throws -> GuestLock {
        do { try DurableFile.createDirectory(directory, mode: 0o755) } catch {
            throw VMError(.failed, "cannot create the lock directory (lock_dir): \(error)")
        }
        let safe = guest.map { $0 == "/" ? "_" : $0 }
        let path = directory + "/" + String(safe) + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw VMError(.failed, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(fd)
                throw VMError(.failed, "cannot lock \(path): \(String(cString: strerror(errno)))")
            }
            if clock.now >= deadline {
                let holder = (readFile(path) ?? "").trimmed
                close(fd)
                throw VMError(.timedOut, "guest \(guest) is busy: another vmmanager action holds \(path) "
                              + "(\(holder.isEmpty ? "unknown" : holder)) for more than \(timeout.formattedSeconds)")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        // Say who holds it, for the message above.
        let note = "\(purpose) by pid \(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = note.withCString { pwrite(fd, $0, strlen($0), 0) }
        return GuestLock(descriptor: fd, path: path)
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
