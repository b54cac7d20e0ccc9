import Dispatch
import FoundationEssentials
internal import CLibvirt
#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking libvirt calls on their own thread, so that no call can hang its caller.
///
/// libvirt's C API blocks until the daemon answers. A daemon that is stopped (SIGSTOP), deadlocked or
/// overloaded would hang the caller forever — a resource agent that hangs gets its node fenced. Every
/// call therefore runs on a fresh thread while the caller waits at most the deadline; when it passes,
/// the caller gets ``LibvirtError/Code/timedOut`` and the thread is left to finish (or to fail once
/// libvirt's keepalive closes the connection). Threads are not taken from the cooperative pool or from
/// Dispatch's pool, both of which a few stuck calls could exhaust.
enum BlockingCall {
    /// Runs `body` on a new thread; `body` returns a value or throws the error it copied on that thread.
    static func run<T: Sendable>(
        _ operation: String, target: String?, timeout: Duration,
        _ body: @escaping @Sendable () throws(LibvirtError) -> T
    ) async throws(LibvirtError) -> T {
        var timeout = timeout
        if let left = OperationDeadline.remaining {
            guard left > .zero else {
                throw LibvirtError(code: .timedOut, message: "the operation's time ran out before this call",
                                   operation: operation, target: target)
            }
            timeout = min(timeout, left)
        }
        let result: Result<T, LibvirtError> = await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            spawnThread {
                let outcome: Result<T, LibvirtError>
                do throws(LibvirtError) { outcome = .success(try body()) } catch { outcome = .failure(error) }
                once.resume(with: outcome)
            }
            let seconds = timeout.seconds
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                once.resume(with: .failure(LibvirtError(
                    code: .timedOut,
                    message: "no answer within \(Duration.formatted(seconds)); libvirtd may be hung, stopped or "
                        + "overloaded (check that it runs and answers `virsh version`)",
                    operation: operation, target: target)))
            }
        }
        return try result.get()
    }

    /// A call that returns a pointer, NULL on failure.
    static func pointer<P: Sendable>(
        _ operation: String, target: String?, timeout: Duration, _ body: @escaping @Sendable () -> P?
    ) async throws(LibvirtError) -> P {
        try await run(operation, target: target, timeout: timeout) { () throws(LibvirtError) -> P in
            guard let p = body() else { throw LibvirtError.last(operation: operation, target: target) }
            return p
        }
    }

    /// A call that returns an int, negative on failure.
    @discardableResult
    static func status(
        _ operation: String, target: String?, timeout: Duration, _ body: @escaping @Sendable () -> Int32
    ) async throws(LibvirtError) -> Int32 {
        try await run(operation, target: target, timeout: timeout) { () throws(LibvirtError) -> Int32 in
            let rc = body()
            if rc < 0 { throw LibvirtError.last(operation: operation, target: target) }
            return rc
        }
    }
}

/// Resumes a continuation exactly once: the first of "the call returned" and "the deadline passed" wins.
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    // @unchecked: `continuation` is only touched under `lock`.
    private let lock = NSLockLike()
    private var continuation: CheckedContinuation<T, Never>?

    init(_ continuation: CheckedContinuation<T, Never>) { self.continuation = continuation }

    func resume(with value: T) {
        lock.lock()
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume(returning: value)
    }
}

/// A pthread mutex; FoundationEssentials has no NSLock.
final class NSLockLike: @unchecked Sendable {
    // @unchecked: the mutex is the synchronisation primitive itself.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// Starts a detached pthread running `body`.
func spawnThread(name: String? = nil, _ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; let name: String?; init(_ b: @escaping @Sendable () -> Void, _ n: String?) { body = b; name = n } }
    let box = Unmanaged.passRetained(Box(body, name)).toOpaque()
    var thread = pthread_t()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    let rc = pthread_create(&thread, &attributes, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, box)
    pthread_attr_destroy(&attributes)
    precondition(rc == 0, "pthread_create failed (\(rc)): the process is out of threads")
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }

    static func formatted(_ seconds: Double) -> String {
        seconds >= 10 || seconds == seconds.rounded() ? "\(Int(seconds.rounded())) s" : "\((seconds * 10).rounded() / 10) s"
    }
}
