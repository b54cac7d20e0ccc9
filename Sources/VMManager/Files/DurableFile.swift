import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Writes that survive a crash or a power loss the moment they return, and never leave a half-written
/// file under the final name: temporary file in the same directory, fsync, rename (or link, to refuse
/// replacing), fsync of the directory.
///
/// The spool's events and the saved-state records (generation, provenance) are written this way: a node
/// that dies mid-write leaves the previous version intact.
enum DurableFile {
    /// Why a durable write failed: the path and the system's reason.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Writes `data` to `path`, replacing any older version atomically.
    /// - Parameter mode: permission bits of a new file.
    static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws(Failure) {
        let temporary = try writeTemporary(data, beside: path, mode: mode)
        guard rename(temporary, path) == 0 else {
            let e = failure("cannot rename \(temporary) to \(path)")
            unlink(temporary)
            throw e
        }
        try syncDirectory(of: path)
    }

    /// Writes `data` to a new temporary file next to `path` (a dot file, so listings skip it), fsynced.
    /// - Returns: the temporary file's path.
    static func writeTemporary(_ data: Data, beside path: String, mode: mode_t = 0o644) throws(Failure) -> String {
        let directory = directoryName(of: path)
        let temporary = "\(directory)/.tmp-\(UUID().uuidString.lowercased())"
        var fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 && errno == ENOENT {
            try createDirectory(directory)
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        }
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        let written = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        guard written, fsync(fd) == 0 else {
            let e = failure("cannot write \(temporary)")
            close(fd)
            unlink(temporary)
            throw e
        }
        close(fd)
        return temporary
    }

    /// Flushes a file that someone else wrote (libvirt's save image) to stable storage.
    static func sync(_ path: String) throws(Failure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open \(path)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot fsync \(path)") }
    }

    /// Gives `source` the name `target` only if no file has that name (link(2) never replaces), then
    /// removes the old name. Returns false, changing nothing, when `target` exists.
    static func moveWithoutReplacing(_ source: String, to target: String) throws(Failure) -> Bool {
        if link(source, target) != 0 {
            if errno == EEXIST { return false }
            throw failure("cannot link \(source) to \(target)")
        }
        unlink(source)
        try syncDirectory(of: target)
        return true
    }

    /// Creates `directory` (mode 0700 for new components) and its missing parents.
    static func createDirectory(_ directory: String, mode: mode_t = 0o700) throws(Failure) {
        var path = ""
        for component in directory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, mode) != 0 && errno != EEXIST { throw failure("cannot create the directory \(path)") }
        }
    }

    /// fsyncs the directory that holds `path`, so a rename or unlink in it is durable.
    static func syncDirectory(of path: String) throws(Failure) {
        try syncDirectory(directoryName(of: path))
    }

    static func syncDirectory(_ directory: String) throws(Failure) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open the directory \(directory)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot fsync the directory \(directory)") }
    }

    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(errno)))")
    }
}
