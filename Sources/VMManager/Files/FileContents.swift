import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Reads whole (small) files: configuration, records, pid files, logs.
///
/// With open(2)/read(2) rather than `FileManager.contents(atPath:)`: under LeakSanitizer, swift-foundation's
/// reader leaked its 4 KiB buffer for every empty file it read — and the agent, run afresh at every monitor
/// interval, reads an empty vmmanager.conf each time.
public enum FileContents {
    /// The file's bytes, or nil when it cannot be opened or read, or is larger than `limit`.
    public static func read(_ path: String, limit: Int = 64 << 20) -> Data? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[..<n])
            if bytes.count > limit { return nil }
        }
        return Data(bytes)
    }
}
