internal import CLibvirt
#if canImport(Glibc)
import Glibc
#endif

/// Threads of their own for work that blocks: a libvirt call, libvirt's event loop, a `waitpid`, a libcurl
/// transfer, a TCP connect. The one place the package creates threads.
///
/// Swift's cooperative pool has about one thread per core and Dispatch's pool is bounded too: a few calls
/// that block (a stopped libvirtd, a mail server that does not answer) would occupy them all and stall every
/// task of the process, deadlines included. Blocking work therefore runs on a detached pthread made for it,
/// which ends when the work does.
///
/// Creating a thread can fail (the process or the system is out of threads or memory). That is a
/// ``StartError`` the caller reports as the failure of what it was doing — never a crash, and never the
/// work run inline on the caller's thread, which would block the very pool this exists to keep free.
public enum DedicatedThread {
    /// No thread could be created.
    public struct StartError: Error, Sendable, CustomStringConvertible {
        /// The name the thread would have had.
        public let name: String
        /// `pthread_create`'s error number (`EAGAIN` when the process or the system is out of threads).
        public let code: Int32

        public var description: String {
            "cannot start a thread (\(name)): \(String(cString: strerror(code)))"
        }
    }

    /// The longest thread name Linux keeps, in bytes (16 with the terminating NUL).
    public static let maximumNameLength = 15

    /// Starts a detached thread named `name` that runs `body`, and returns at once.
    /// - Parameter name: shown by `top -H`, `ps -L` and debuggers; cut to ``maximumNameLength`` bytes.
    /// - Throws: ``StartError`` when no thread can be created; `body` then never runs.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(StartError) {
        final class Work {
            let name: String
            let body: @Sendable () -> Void
            init(name: String, body: @escaping @Sendable () -> Void) {
                self.name = name
                self.body = body
            }
        }
        let work = Unmanaged.passRetained(Work(name: threadName(name), body: body))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, &attributes,
            { raw in
                let work = Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue()
                _ = vmmSetCurrentThreadName(work.name)
                work.body()
                return nil
            }, work.toOpaque())
        guard rc == 0 else {
            work.release()
            throw StartError(name: name, code: rc)
        }
    }

    /// Runs `body` on a thread of its own (see ``start(name:_:)``) and awaits its value. The awaiting task is
    /// suspended meanwhile: it holds no thread of the cooperative pool while `body` blocks.
    /// - Throws: ``StartError`` when no thread can be created; `body` then never runs.
    public static func run<T: Sendable>(
        name: String, _ body: @escaping @Sendable () -> T
    ) async throws(StartError) -> T {
        let result: Result<T, StartError> = await withCheckedContinuation { continuation in
            do throws(StartError) {
                try start(name: name) { continuation.resume(returning: .success(body())) }
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }

    /// `name` cut to at most ``maximumNameLength`` bytes of UTF-8, never inside a character (a longer name
    /// makes `pthread_setname_np` fail with `ERANGE`, leaving the thread unnamed).
    static func threadName(_ name: String) -> String {
        var cut = ""
        for character in name {
            guard cut.utf8.count + character.utf8.count <= maximumNameLength else { break }
            cut.append(character)
        }
        return cut
    }
}
