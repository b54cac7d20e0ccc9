import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The process that is a guest, found without libvirt: the stop chain's last resort when libvirtd itself does
/// not answer, and the monitor's fallback when it cannot be reached. For a VM that is its QEMU; for a container
/// (libvirt LXC) it is the container's `libvirt_lxc` controller, whose child is the container's init.
///
/// It must be the process of *this node's* libvirtd — the one `hypervisor` names — and of *this* guest: with
/// two libvirtds on one host (system and session, or nodes in containers sharing a PID namespace) the same
/// guest name, and with pinned identities even the same UUID, can run under each. So the process is found
/// through the pid file in that libvirtd's run directory (`/run/libvirt/qemu/<name>.pid` for
/// `qemu:///system`, `/run/libvirt/lxc/<name>.pid` for `lxc:///system`, the directory of `?socket=` for a
/// socket URI), and checked: a QEMU whose command line names the guest (`-name guest=<name>,...`) and, when
/// known, its UUID (`-uuid`); a `libvirt_lxc` whose command line names it (`--name <name>`; the controller is
/// not given the UUID). A recycled PID or another daemon's guest is never killed. Only when that run directory
/// itself is gone does it scan `/proc`, and then only for processes in this process's own mount namespace.
public struct GuestProcess: Sendable {
    /// What runs a guest: QEMU (a VM) or libvirt's LXC controller (a container).
    public enum Kind: Sendable, Equatable {
        case qemu, container
    }

    public let guest: String
    public let uuid: UUID?
    public let kind: Kind
    /// The libvirtd's run directory for the guest's kind, or nil for a remote hypervisor (its processes are not
    /// ours to see).
    public let runDirectory: String?

    public init(guest: String, uuid: UUID?, hypervisor: String) {
        self.guest = guest
        self.uuid = uuid
        self.kind = Hypervisor.servesContainers(hypervisor) ? .container : .qemu
        self.runDirectory = Self.runDirectory(of: hypervisor)
    }

    /// Where the libvirtd that `uri` names keeps its guests' pid files; nil when it is on another host.
    static func runDirectory(of uri: String) -> String? {
        guard let schemeEnd = uri.firstRange(of: "://") else { return nil }
        let scheme = uri[..<schemeEnd.lowerBound]
        let driver = Hypervisor.servesContainers(String(scheme)) ? "lxc" : "qemu"
        let rest = uri[schemeEnd.upperBound...]
        let host = rest.prefix { $0 != "/" && $0 != "?" }
        let query = rest.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        for item in query.split(separator: "&") where item.hasPrefix("socket=") {
            let socket = String(item.dropFirst("socket=".count))
            return DurableFile.directoryName(of: socket) + "/" + driver
        }
        guard scheme.hasPrefix("qemu") || scheme.hasPrefix("lxc"), host.isEmpty || host == "localhost" else {
            return nil
        }
        if driver == "qemu", rest.contains("/session") {
            let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())"
            return "\(runtime)/libvirt/qemu/run"
        }
        return "/run/libvirt/" + driver
    }

    /// The PID of the guest's process (QEMU, or a container's controller), if one runs under this libvirtd.
    public func find() -> pid_t? {
        guard let runDirectory else { return nil }
        if let text = readFile("\(runDirectory)/\(guest).pid"), let pid = pid_t(text.trimmed), matches(pid) {
            return pid
        }
        var st = stat()
        guard stat(runDirectory, &st) != 0 else { return nil }  // the daemon's records are there: no such process
        // The run directory is gone (lost with /run): scan, but only among the processes this node sees.
        guard let ownNamespace = Self.mountNamespace("self"),
            let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc")
        else { return nil }
        for entry in entries {
            if let pid = pid_t(entry), Self.mountNamespace(entry) == ownNamespace, matches(pid) { return pid }
        }
        return nil
    }

    func matches(_ pid: pid_t) -> Bool {
        guard let data = FileContents.read("/proc/\(pid)/cmdline"), !data.isEmpty else { return false }
        let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if kind == .container {
            guard let exe = args.first, exe.hasSuffix("libvirt_lxc"),
                let i = args.firstIndex(of: "--name"), i + 1 < args.count
            else { return false }
            return args[i + 1] == guest
        }
        guard let exe = args.first, exe.contains("qemu") else { return false }
        guard let i = args.firstIndex(of: "-name"), i + 1 < args.count else { return false }
        let value = args[i + 1]
        guard value == guest || value.hasPrefix("guest=\(guest),") || value == "guest=\(guest)" else { return false }
        if let uuid {
            guard let u = args.firstIndex(of: "-uuid"), u + 1 < args.count,
                UUID(uuidString: args[u + 1]) == uuid
            else { return false }
        }
        return true
    }

    static func mountNamespace(_ pid: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 128)
        let n = readlink("/proc/\(pid)/ns/mnt", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// SIGKILLs the guest's process and waits up to `timeout` for it to go. For a container, the controller's
    /// children go first: its child is the init of the container's PID namespace, and when that init dies the
    /// kernel kills every process of the container.
    /// - Returns: true when no process of the guest is left.
    public func kill(timeout: Duration) async -> Bool {
        guard let pid = find() else { return true }
        if kind == .container {
            for child in Self.children(of: pid) { _ = Glibc.kill(child, SIGKILL) }
        }
        _ = Glibc.kill(pid, SIGKILL)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if !matches(pid) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return !matches(pid)
    }

    /// The children of `pid` (every thread's `children` list in /proc).
    public static func children(of pid: pid_t) -> [pid_t] {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [] }
        return threads.flatMap { thread in
            (readFile("/proc/\(pid)/task/\(thread)/children") ?? "").split(separator: " ").compactMap { pid_t($0) }
        }
    }
}
