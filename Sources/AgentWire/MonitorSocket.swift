#if canImport(Glibc)
import Glibc
#endif

/// Where the monitor server listens, and the frame I/O both sides use: non-blocking sockets, every step
/// bounded by one deadline.
public enum MonitorSocket {
    /// `conf_file`'s default (``Parameters``' table has the same, a test checks).
    public static let defaultConfigPath = "/etc/vmmanager/vmmanager.conf"
    /// `lock_dir`'s default.
    public static let defaultLockDirectory = "/run/vmmanager"
    /// The socket's name in the lock directory.
    public static let fileName = "monitor.sock"

    /// `<lock_dir>/monitor.sock`, `lock_dir` from `[global]` of the configuration file at `configPath`.
    public static func path(configPath: String) -> String {
        lockDirectory(configText: read(configPath) ?? "") + "/" + fileName
    }

    /// The configuration file an agent's command line and environment name: `conf_file` as an OCF parameter
    /// or a heartbeat `conf_file=` argument, else the default.
    public static func configPath(arguments: [String], environment: [String: String]) -> String {
        if let path = environment["OCF_RESKEY_conf_file"] { return path }
        for argument in arguments.dropFirst() where argument.hasPrefix("conf_file=") {
            return String(argument.dropFirst("conf_file=".count))
        }
        return defaultConfigPath
    }

    /// The `lock_dir` of `[global]` (and of the lines before the first section), else the default.
    static func lockDirectory(configText: String) -> String {
        var inGlobal = true
        var found: String?
        for raw in configText.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            let line = trim(raw)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                inGlobal = trim(line.dropFirst().prefix { $0 != "]" }) == "global"
                continue
            }
            guard inGlobal, let eq = line.firstIndex(of: "="), trim(line[..<eq]) == "lock_dir" else { continue }
            found = String(trim(line[line.index(after: eq)...]))
        }
        guard let found, !found.isEmpty else { return defaultLockDirectory }
        return found
    }

    private static func trim(_ s: Substring) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = s.firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = s.lastIndex(where: { !isSpace($0) })!
        return s[start...end]
    }

    private static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while bytes.count < MonitorWire.maximumFrame {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buffer[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Frames

    /// A non-blocking connection to the socket at `path`, or nil (no socket, refused, path too long).
    public static func connect(_ path: String) -> Int32? {
        var address = sockaddr_un()
        guard let length = fill(&address, path) else { return nil }
        let fd = socket(
            AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return nil }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        // A unix socket connects at once or not at all (EAGAIN: the server's backlog is full).
        guard result == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Fills a `sockaddr_un` with `path`; nil when it does not fit.
    public static func fill(_ address: inout sockaddr_un, _ path: String) -> socklen_t? {
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
    }

    /// Writes all of `bytes` to the non-blocking `fd` before `deadline`.
    public static func send(_ bytes: [UInt8], to fd: Int32, deadline: ContinuousClock.Instant) -> Bool {
        transfer(bytes.count, fd, POLLOUT, deadline) { offset in
            bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// Reads one frame's payload from the non-blocking `fd` before `deadline`; nil on a timeout, a closed
    /// connection or a frame over ``MonitorWire/maximumFrame``.
    public static func receiveFrame(from fd: Int32, deadline: ContinuousClock.Instant) -> [UInt8]? {
        guard let header = receive(4, from: fd, deadline: deadline) else { return nil }
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        guard length <= MonitorWire.maximumFrame else { return nil }
        return receive(length, from: fd, deadline: deadline)
    }

    private static func receive(_ count: Int, from fd: Int32, deadline: ContinuousClock.Instant) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let complete = transfer(count, fd, POLLIN, deadline) { offset in
            bytes[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        }
        return complete ? bytes : nil
    }

    /// Moves `count` bytes with `step` (a `send` or `recv` from the offset reached, returning its result),
    /// waiting for `event` when the socket is not ready; false on an error, a closed connection or the deadline.
    private static func transfer(
        _ count: Int, _ fd: Int32, _ event: Int32, _ deadline: ContinuousClock.Instant,
        _ step: (Int) -> Int
    ) -> Bool {
        var offset = 0
        while offset < count {
            let n = step(offset)
            if n > 0 {
                offset += n
            } else if n < 0, errno == EINTR {
                continue
            } else if n < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                guard wait(fd, for: Int16(event), until: deadline) else { return false }
            } else {
                return false  // closed, or an error
            }
        }
        return true
    }

    /// Waits until `fd` is ready for `events`, at most until `deadline`.
    public static func wait(_ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return false }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0, errno != EINTR { return false }
        }
    }
}
