import Libvirt
#if canImport(Glibc)
import Glibc
#endif

/// A TCP connect with a deadline: the `tcp:HOST:PORT` readiness probe.
///
/// Resolving the name and waiting for the connection block (the wait up to `timeout` for each address), so
/// the probe runs on a thread of its own, as libvirt calls do, and the caller's task only awaits it: a probe
/// of a guest that does not answer must not hold a thread of Swift's cooperative pool.
enum TCPProbe {
    /// Returns nil when `host:port` accepted a connection within `timeout`, else why not.
    static func connect(host: String, port: UInt16, timeout: Duration) async -> String? {
        do {
            return try await DedicatedThread.run(name: "tcp-probe") {
                connectBlocking(host: host, port: port, timeout: timeout)
            }
        } catch {
            return "\(host):\(port): not probed: \(error)"
        }
    }

    /// The probe itself (blocking).
    private static func connectBlocking(host: String, port: UInt16, timeout: Duration) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            return "cannot resolve \(host): \(String(cString: gai_strerror(rc)))"
        }
        defer { freeaddrinfo(list) }
        var why = "no address for \(host)"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let ai = entry {
            entry = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return nil }
            guard errno == EINPROGRESS else {
                why = "\(host):\(port): \(String(cString: strerror(errno)))"
                continue
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ms = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            guard poll(&pfd, 1, ms) == 1 else {
                why = "\(host):\(port): no answer within \(ms) ms"
                continue
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 { return nil }
            why = "\(host):\(port): \(String(cString: strerror(error)))"
        }
        return why
    }
}
