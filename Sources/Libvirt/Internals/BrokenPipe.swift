#if canImport(Glibc)
import Glibc
#endif

/// SIGPIPE, ignored for the whole process once, the way virsh does it: libvirt's client writes to its
/// daemon's socket with plain write(2), so a daemon that dies or restarts mid-call (a package upgrade, a
/// node being killed) would otherwise end the process with SIGPIPE instead of giving the caller an error —
/// an agent killed by a signal is a failed operation to Pacemaker, and a test process dies with all its
/// tests. The same holds for OpenSSL writes under libcurl. Only a default disposition is changed: a
/// handler the application installed stays.
public enum BrokenPipe {
    public static func ignore() { _ = ignored }

    private static let ignored: Bool = {
        var current = sigaction()
        sigaction(SIGPIPE, nil, &current)
        if current.__sigaction_handler.sa_handler == nil { signal(SIGPIPE, SIG_IGN) }
        return true
    }()
}
