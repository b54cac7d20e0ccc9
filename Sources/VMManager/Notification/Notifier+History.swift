import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Each guest's recorded transitions, delivered or not, for `vmctl status`.
extension Notifier {
    /// The transitions recorded for `guest`, oldest first, at most `limit` — delivered or not (`vmctl status`
    /// shows them). Kept per guest in `<spool_dir>/.history/<guest>.jsonl`, trimmed to the last 200.
    public func history(guest: String, limit: Int = 10) -> [TransitionEvent] {
        guard limit > 0, let data = FileContents.read(historyPath(guest)) else { return [] }
        let decoder = JSONDecoder()
        let lines = data.split(separator: UInt8(ascii: "\n"))
        return lines.suffix(limit).compactMap { try? decoder.decode(TransitionEvent.self, from: Data($0)) }
    }

    private func historyPath(_ guest: String) -> String {
        "\(spoolDirectory)/.history/\(Self.fileSafe(guest)).jsonl"
    }

    /// One line per event; informational, so no fsync. Past 256 KiB the file is cut to its last 200 lines.
    func appendHistory(_ event: TransitionEvent, guest: String) {
        guard var line = try? JSONEncoder().encode(event) else { return }
        line.append(UInt8(ascii: "\n"))
        let path = historyPath(guest)
        var fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 {
            mkdir("\(spoolDirectory)/.history", 0o700)
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else { return }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size > 256 * 1024, let data = FileContents.read(path)
        else { return }
        let kept = data.split(separator: UInt8(ascii: "\n")).suffix(200).map { Data($0) + Data([UInt8(ascii: "\n")]) }
        let temporary = path + ".tmp"
        if FileManager.default.createFile(atPath: temporary, contents: kept.reduce(Data(), +)) {
            rename(temporary, path)
        }
    }
}
