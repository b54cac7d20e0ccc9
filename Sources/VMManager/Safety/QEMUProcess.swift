import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The QEMU process of a guest, found without libvirt: the stop chain's last resort when libvirtd
/// itself does not answer, and the monitor's fallback when it cannot be reached.
///
/// libvirt's qemu driver writes `/run/libvirt/qemu/<name>.pid`; the process is checked to be a QEMU
/// whose command line names the guest (`-name guest=<name>,...`), so a recycled PID is never killed.
public enum QEMUProcess {
    public static let pidDirectory = "/run/libvirt/qemu"

    /// The PID of the guest's QEMU process, if one runs.
    public static func find(guest name: String, pidDirectory: String = pidDirectory) -> pid_t? {
        if let text = readFile("\(pidDirectory)/\(name).pid"), let pid = pid_t(text.trimmed), isQEMU(pid, guest: name) {
            return pid
        }
        // No pid file (libvirtd's run dir lost): scan /proc.
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            if let pid = pid_t(entry), isQEMU(pid, guest: name) { return pid }
        }
        return nil
    }

    static func isQEMU(_ pid: pid_t, guest name: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return false }
        let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard let exe = args.first, exe.contains("qemu") else { return false }
        guard let i = args.firstIndex(of: "-name"), i + 1 < args.count else { return false }
        let value = args[i + 1]
        return value == name || value.hasPrefix("guest=\(name),") || value == "guest=\(name)"
    }

    /// SIGKILLs the guest's QEMU process and waits up to `timeout` for it to go.
    /// - Returns: true when no QEMU process of the guest is left.
    public static func kill(guest name: String, timeout: Duration) async -> Bool {
        guard let pid = find(guest: name) else { return true }
        _ = Glibc.kill(pid, SIGKILL)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if !isQEMU(pid, guest: name) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return !isQEMU(pid, guest: name)
    }
}
