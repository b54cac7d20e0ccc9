import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The detached `vmctl notify flush` that delivers what the agent recorded.
extension Notifier {
    /// Starts `<executable> notify flush --background [--config PATH]` in its own session with stdin, stdout
    /// and stderr on /dev/null, and returns at once with its pid.
    @discardableResult
    public static func spawnBackgroundFlush(
        executable: String, configPath: String? = nil
    )
        -> Result<Int32, SpoolError>
    {
        BackgroundProcess.spawnDetached(
            executable,
            ["notify", "flush", "--background"]
                + (configPath.map { ["--config", $0] } ?? []))
    }

    /// `name` installed beside the running executable: in its own directory (`/usr/sbin/vmctl` next to the
    /// agent front, or a build directory), else in `<prefix>/sbin` when it runs from `<prefix>/lib/vmmanager`
    /// (the full agent the front executes), else the first `name` in PATH.
    public static func siblingExecutable(_ name: String) -> String { installed(name, beside: currentExecutable) }

    static func installed(_ name: String, beside path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return ExternalCommand.resolve(name) ?? "/usr/sbin/\(name)" }
        let directory = String(path[..<slash])
        var candidates = [directory + "/" + name]
        if directory.hasSuffix("/lib/vmmanager") {
            candidates.append(String(directory.dropLast("/lib/vmmanager".count)) + "/sbin/" + name)
        }
        for candidate in candidates where access(candidate, X_OK) == 0 { return candidate }
        return ExternalCommand.resolve(name) ?? candidates[0]
    }

    /// The running executable (`/proc/self/exe`).
    public static var currentExecutable: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments.first ?? "vmctl" }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
