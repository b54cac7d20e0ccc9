import Dispatch
import FoundationEssentials
internal import CLibvirt

/// Runs blocking libvirt calls on their own thread, so that no call can hang its caller.
///
/// libvirt's C API blocks until the daemon answers. A daemon that is stopped (SIGSTOP), deadlocked or
/// overloaded would hang the caller forever — a resource agent that hangs gets its node fenced. Every
/// call therefore runs on a fresh thread while the caller waits at most the deadline; when it passes,
/// the caller gets ``LibvirtError/Code/timedOut`` and the thread is left to finish (or to fail once
/// libvirt's keepalive closes the connection). Threads are not taken from the cooperative pool or from
/// Dispatch's pool, both of which a few stuck calls could exhaust (see ``DedicatedThread``); when none can
/// be created, the call fails with ``LibvirtError/Code/threadUnavailable`` without being made.
enum BlockingCall {
    /// Runs `body` on a new thread; `body` returns a value or throws the error it copied on that thread.
    ///
    /// `discard` is given a value that arrived after the caller was told the call timed out: nobody will
    /// use it, so what it holds (open descriptors, say) must be released there or it is leaked for good.
    static func run<T: Sendable>(
        _ operation: String, target: String?, timeout: Duration,
        discard: (@Sendable (T) -> Void)? = nil,
        _ body: @escaping @Sendable () throws(LibvirtError) -> T
    ) async throws(LibvirtError) -> T {
        var timeout = timeout
        if let left = OperationDeadline.remaining {
            guard left > .zero else {
                throw LibvirtError(
                    code: .timedOut, message: "the operation's time ran out before this call",
                    operation: operation, target: target)
            }
            timeout = min(timeout, left)
        }
        let result: Result<T, LibvirtError> = await withCheckedContinuation { continuation in
            // The first of "the call returned" and "the deadline passed" resumes the caller.
            let once = OnceContinuation(continuation)
            do throws(DedicatedThread.StartError) {
                try DedicatedThread.start(name: "libvirt-call") {
                    let outcome: Result<T, LibvirtError>
                    do throws(LibvirtError) { outcome = .success(try body()) } catch { outcome = .failure(error) }
                    if !once.resume(returning: outcome), case .success(let late) = outcome { discard?(late) }
                }
            } catch {
                once.resume(
                    returning: .failure(
                        LibvirtError(
                            code: .threadUnavailable, message: "\(error); the call was not made",
                            operation: operation, target: target)))
                return
            }
            let seconds = timeout.seconds
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                once.resume(
                    returning: .failure(
                        LibvirtError(
                            code: .timedOut,
                            message:
                                "no answer within \(Duration.formatted(seconds)); libvirtd may be hung, stopped or "
                                + "overloaded (check that it runs and answers `virsh version`)",
                            operation: operation, target: target)))
            }
        }
        return try result.get()
    }

    /// A call that returns a pointer, NULL on failure.
    static func pointer<P: Sendable>(
        _ operation: String, target: String?, timeout: Duration, discard: (@Sendable (P) -> Void)? = nil,
        _ body: @escaping @Sendable () -> P?
    ) async throws(LibvirtError) -> P {
        try await run(operation, target: target, timeout: timeout, discard: discard) { () throws(LibvirtError) -> P in
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

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }

    static func formatted(_ seconds: Double) -> String {
        seconds >= 10 || seconds == seconds.rounded()
            ? "\(Int(seconds.rounded())) s" : "\((seconds * 10).rounded() / 10) s"
    }
}
