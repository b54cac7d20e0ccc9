import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// An event in the spool, with what each target has done with it so far.
public struct SpooledEvent: Codable, Sendable {
    public struct Attempt: Codable, Sendable, Hashable {
        public var count: Int
        public var lastError: String
        public var last: Date

        package init(count: Int, lastError: String, last: Date) {
            self.count = count
            self.lastError = lastError
            self.last = last
        }
    }

    /// The file format, so a later version can read what an earlier one left behind.
    public var format: Int
    public var event: TransitionEvent
    /// Target key (``NotifyTarget/key``) → when that target accepted the event. A retry skips these.
    public var delivered: [String: Date]
    /// Target key → failed attempts so far.
    public var attempts: [String: Attempt]

    public init(event: TransitionEvent) {
        format = 1
        self.event = event
        delivered = [:]
        attempts = [:]
    }
}

/// A spool file: its name and, unless it could not be read, its content.
public struct SpoolEntry: Sendable {
    public let name: String
    public let path: String
    public let content: Result<SpooledEvent, SpoolError>
}

public struct SpoolError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A directory of one file per event, written so that an event that was recorded survives a crash or a power
/// loss the moment ``write(_:name:)`` returns: temporary file, fsync, rename, fsync of the directory.
///
/// File names start with the event's time, so a sorted listing is the order of events. Names starting with a
/// dot (temporary files, the flush lock) are not events.
package struct Spool {
    package let directory: String

    package static let suffix = ".event"

    /// `20240507T140309.123456Z-<uuid>.event`.
    package static func fileName(for event: TransitionEvent) -> String {
        let seconds = event.timestamp.timeIntervalSince1970.rounded(.down)
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        let micros = Int((event.timestamp.timeIntervalSince1970 - seconds) * 1_000_000)
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let stamp =
            "\(pad(Int(tm.tm_year) + 1900, 4))\(pad(Int(tm.tm_mon) + 1, 2))\(pad(Int(tm.tm_mday), 2))T"
            + "\(pad(Int(tm.tm_hour), 2))\(pad(Int(tm.tm_min), 2))\(pad(Int(tm.tm_sec), 2)).\(pad(micros, 6))Z"
        return "\(stamp)-\(event.id.uuidString.lowercased())\(suffix)"
    }

    /// Creates the directory (mode 0700) and its missing parents.
    package func ensureDirectory() throws(SpoolError) {
        do { try DurableFile.createDirectory(directory) } catch {
            throw SpoolError(message: "cannot create the spool directory: \(error)")
        }
    }

    /// Writes `entry` as `name`, replacing an older version atomically; durable when it returns.
    package func write(_ entry: SpooledEvent, name: String) throws(SpoolError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(entry) } catch {
            throw SpoolError(message: "cannot encode the event: \(error)")
        }
        do { try DurableFile.write(data, to: "\(directory)/\(name)", mode: 0o600) } catch {
            throw SpoolError(message: "\(error)")
        }
    }

    package func read(_ name: String) -> Result<SpooledEvent, SpoolError> {
        let path = "\(directory)/\(name)"
        guard let data = FileContents.read(path) else {
            return .failure(SpoolError(message: "cannot read \(path)"))
        }
        do { return .success(try JSONDecoder().decode(SpooledEvent.self, from: data)) } catch {
            return .failure(SpoolError(message: "\(path) is not a spooled event: \(error)"))
        }
    }

    /// Event file names, oldest first.
    package func names() -> [String] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return all.filter { !$0.hasPrefix(".") && $0.hasSuffix(Self.suffix) }.sorted()
    }

    package func entries() -> [SpoolEntry] {
        names().map { SpoolEntry(name: $0, path: "\(directory)/\($0)", content: read($0)) }
    }

    /// Removes a delivered event, durably.
    package func remove(_ name: String) throws(SpoolError) {
        guard unlink("\(directory)/\(name)") == 0 || errno == ENOENT else { throw failure("cannot remove \(name)") }
        try syncDirectory()
    }

    /// Moves an unreadable file out of the way (`<name>.corrupt`), so it stops failing every flush but is
    /// kept for a human to look at.
    package func quarantine(_ name: String) {
        _ = rename("\(directory)/\(name)", "\(directory)/\(name).corrupt")
        try? syncDirectory()
    }

    /// Temporary files older than an hour are what a crash between create and rename left behind.
    package func removeStaleTemporaries() {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let now = time(nil)
        for name in all where name.hasPrefix(".tmp-") {
            var st = stat()
            if stat("\(directory)/\(name)", &st) == 0, now - st.st_mtim.tv_sec > 3600 { unlink("\(directory)/\(name)") }
        }
    }

    private func syncDirectory() throws(SpoolError) {
        do { try DurableFile.syncDirectory(directory) } catch { throw SpoolError(message: "\(error)") }
    }

    private func failure(_ what: String) -> SpoolError {
        SpoolError(message: "\(what) in \(directory): \(String(cString: strerror(errno)))")
    }
}
