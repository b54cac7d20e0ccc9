internal import CLibvirt
#if canImport(Glibc)
import Glibc
#endif

/// The namespaces of a running libvirt LXC container, opened by its own libvirtd.
///
/// libvirtd knows the container's init and hands its namespace files over the connection's socket
/// ([virDomainLxcOpenNamespace](https://libvirt.org/html/libvirt-libvirt-lxc.html#virDomainLxcOpenNamespace)),
/// so a command entered through them runs in exactly this container, not in whatever a PID found in /proc
/// belongs to by then. Only a local connection (`lxc:///system`) can pass descriptors.
public struct ContainerNamespaces: ~Copyable, Sendable {
    /// One namespace: its kind as the kernel names it (`mnt`, `net`, `pid`, `uts`, `ipc`, `user`, …) and an
    /// open descriptor of it (close-on-exec, as libvirt receives it).
    public struct Namespace: Sendable {
        public let kind: String
        public let descriptor: Int32
        /// True when this process is already in it (entering it again is refused for a user namespace,
        /// and pointless for any other).
        public let isOurs: Bool
        /// False for a PID namespace that is not below ours (setns refuses it): the container's libvirtd
        /// runs in another PID namespace than we do. The container's /proc, mounted in its mount namespace,
        /// still shows its own processes.
        public let canBeEntered: Bool
    }

    public let namespaces: [Namespace]

    init(descriptors: [Int32]) {
        namespaces = descriptors.compactMap { fd in
            // /proc/self/fd/N of a namespace descriptor reads "net:[4026531840]", as /proc/self/ns/net does.
            guard let link = Self.readLink("/proc/self/fd/\(fd)"), let colon = link.firstIndex(of: ":") else {
                close(fd)
                return nil
            }
            let kind = String(link[..<colon])
            let isOurs = Self.readLink("/proc/self/ns/\(kind)") == link
            return Namespace(
                kind: kind, descriptor: fd, isOurs: isOurs,
                canBeEntered: !isOurs && (kind != "pid" || Self.isBelowOurPIDNamespace(fd)))
        }
    }

    /// Whether the PID namespace `fd` is a descendant of this process's, walking up its parents.
    static func isBelowOurPIDNamespace(_ fd: Int32) -> Bool {
        var ours = stat()
        guard stat("/proc/self/ns/pid", &ours) == 0 else { return false }
        var current = dup(fd)
        defer { if current >= 0 { close(current) } }
        for _ in 0..<32 where current >= 0 {
            let parent = vmmNamespaceParent(current)
            close(current)
            current = parent
            var st = stat()
            guard parent >= 0, fstat(parent, &st) == 0 else { return false }
            if st.st_ino == ours.st_ino && st.st_dev == ours.st_dev { return true }
        }
        return false
    }

    deinit { for namespace in namespaces { close(namespace.descriptor) } }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 128)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Domain {
    /// Opens the namespaces of this running container (a `<domain type='lxc'>`).
    /// - Throws: ``LibvirtError`` when the guest is not a running container or the connection is remote.
    ///   Descriptors that libvirt hands over after the deadline (a slow or hung libvirtd) are closed as
    ///   they arrive, so a timed-out call leaks nothing.
    public func openNamespaces(timeout: Duration? = nil) async throws(LibvirtError) -> ContainerNamespaces {
        let name = self.name
        let descriptors = try await call(
            "virDomainLxcOpenNamespace", timeout: timeout, discard: { late in for fd in late { close(fd) } }
        ) {
            (d) throws(LibvirtError) -> [Int32] in
            var list: UnsafeMutablePointer<Int32>? = nil
            let count = virDomainLxcOpenNamespace(d, &list, 0)
            if count < 0 { throw LibvirtError.last(operation: "virDomainLxcOpenNamespace", target: name) }
            defer { free(list) }
            return (0..<Int(count)).map { list![$0] }
        }
        return ContainerNamespaces(descriptors: descriptors)
    }
}
