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

    /// `name` in the directory of the running executable, e.g. the `vmctl` installed next to the agent.
    public static func siblingExecutable(_ name: String) -> String {
        let path = currentExecutable
        guard let slash = path.lastIndex(of: "/") else { return "/usr/sbin/\(name)" }
        return String(path[...slash]) + name
    }

    /// The running executable (`/proc/self/exe`).
    public static var currentExecutable: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments.first ?? "vmctl" }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
