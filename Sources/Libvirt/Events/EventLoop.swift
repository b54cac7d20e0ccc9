internal import CLibvirt

/// libvirt's default event loop, run by one named thread for the life of the process.
///
/// It must be registered before the first connection is opened: libvirt's keepalive (which closes a
/// connection to a daemon that stopped answering) and domain events both depend on it. ``Connection``
/// starts it, so callers never need to.
public enum EventLoop {
    private static let started: Bool = {
        virInitialize()
        vmmSilenceLibvirtErrors()
        guard virEventRegisterDefaultImpl() == 0 else { return false }
        do throws(DedicatedThread.StartError) {
            try DedicatedThread.start(name: "libvirt-events") {
                while true {
                    if virEventRunDefaultImpl() < 0 {
                        // Only happens when the loop itself breaks; do not spin.
                        usleepSafe(100_000)
                    }
                }
            }
        } catch {
            return false
        }
        return true
    }()

    /// Registers and starts the loop once; later calls do nothing. Returns false if libvirt refused it or no
    /// thread could be created to run it (then keepalive and domain events do not work in this process).
    @discardableResult
    public static func start() -> Bool { started }
}

#if canImport(Glibc)
import Glibc
#endif

func usleepSafe(_ microseconds: UInt32) { usleep(microseconds) }
