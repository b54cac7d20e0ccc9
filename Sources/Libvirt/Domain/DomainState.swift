internal import CLibvirt

/// A domain's state and the reason for it, as
/// [virDomainGetState](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetState)
/// reports them. Values that a newer libvirt adds are kept as raw numbers (``Kind/other(_:)`` and the
/// reasons' raw values), never dropped or mapped to something they are not.
public struct DomainState: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        case noState, running, blocked, paused, shuttingDown, shutOff, crashed, pmSuspended
        case other(Int32)

        init(raw: Int32) {
            switch UInt32(bitPattern: raw) {
            case VIR_DOMAIN_NOSTATE.rawValue: self = .noState
            case VIR_DOMAIN_RUNNING.rawValue: self = .running
            case VIR_DOMAIN_BLOCKED.rawValue: self = .blocked
            case VIR_DOMAIN_PAUSED.rawValue: self = .paused
            case VIR_DOMAIN_SHUTDOWN.rawValue: self = .shuttingDown
            case VIR_DOMAIN_SHUTOFF.rawValue: self = .shutOff
            case VIR_DOMAIN_CRASHED.rawValue: self = .crashed
            case VIR_DOMAIN_PMSUSPENDED.rawValue: self = .pmSuspended
            default: self = .other(raw)
            }
        }

        /// The word `virsh domstate` prints for this state.
        public var description: String {
            switch self {
            case .noState: "nostate"
            case .running: "running"
            case .blocked: "blocked"
            case .paused: "paused"
            case .shuttingDown: "in shutdown"
            case .shutOff: "shut off"
            case .crashed: "crashed"
            case .pmSuspended: "pmsuspended"
            case .other(let n): "state \(n)"
            }
        }
    }

    public let kind: Kind
    /// The reason as libvirt's number; its meaning depends on ``kind`` (see ``reasonName``).
    public let reason: Int32

    public init(kind: Kind, reason: Int32) {
        self.kind = kind
        self.reason = reason
    }

    init(rawState: Int32, rawReason: Int32) {
        self.init(kind: Kind(raw: rawState), reason: rawReason)
    }

    /// True for states in which the guest has a QEMU process: running, blocked, paused, in shutdown,
    /// pmsuspended (libvirt's "active").
    public var isActive: Bool {
        switch kind {
        case .running, .blocked, .paused, .shuttingDown, .pmSuspended: true
        default: false
        }
    }

    /// The reason in `virsh domstate --reason` words ("booted", "restored", "ioerror", "saved", ...).
    public var reasonName: String {
        let names: [String]
        switch kind {
        case .running, .blocked:
            names = [
                "unknown", "booted", "migrated", "restored", "from snapshot", "unpaused", "migration canceled",
                "save canceled", "event wakeup", "crashed", "post-copy", "post-copy failed",
            ]
            if kind == .blocked { return reason == 0 ? "unknown" : "reason \(reason)" }
        case .paused:
            names = [
                "unknown", "user", "migrating", "saving", "dumping", "ioerror", "watchdog", "from snapshot",
                "shutting down", "creating snapshot", "crashed", "starting up", "post-copy", "post-copy failed",
            ]
        case .shuttingDown:
            names = ["unknown", "user"]
        case .shutOff:
            names = [
                "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot",
                "daemon",
            ]
        case .crashed:
            names = ["unknown", "panicked"]
        case .pmSuspended:
            names = ["unknown"]
        case .noState, .other:
            names = ["unknown"]
        }
        return reason >= 0 && Int(reason) < names.count ? names[Int(reason)] : "reason \(reason)"
    }

    /// Like `virsh domstate --reason`: "running (booted)".
    public var description: String { "\(kind) (\(reasonName))" }

    // Reasons that HA decisions turn on, named after their C constants.

    /// running, `VIR_DOMAIN_RUNNING_RESTORED`: resumed from a saved image.
    public var isRunningRestored: Bool { kind == .running && reason == Int32(VIR_DOMAIN_RUNNING_RESTORED.rawValue) }
    /// running, `VIR_DOMAIN_RUNNING_MIGRATED`.
    public var isRunningMigrated: Bool { kind == .running && reason == Int32(VIR_DOMAIN_RUNNING_MIGRATED.rawValue) }
    /// running, `VIR_DOMAIN_RUNNING_BOOTED`.
    public var isRunningBooted: Bool { kind == .running && reason == Int32(VIR_DOMAIN_RUNNING_BOOTED.rawValue) }
    /// paused, `VIR_DOMAIN_PAUSED_USER`: someone paused it on purpose.
    public var isPausedByUser: Bool { kind == .paused && reason == Int32(VIR_DOMAIN_PAUSED_USER.rawValue) }
    /// paused, `VIR_DOMAIN_PAUSED_IOERROR`: QEMU stopped the guest after a disk error.
    public var isPausedByIOError: Bool { kind == .paused && reason == Int32(VIR_DOMAIN_PAUSED_IOERROR.rawValue) }
    /// shut off, `VIR_DOMAIN_SHUTOFF_SAVED`: stopped by a (managed) save.
    public var isShutOffSaved: Bool { kind == .shutOff && reason == Int32(VIR_DOMAIN_SHUTOFF_SAVED.rawValue) }
    /// shut off, `VIR_DOMAIN_SHUTOFF_CRASHED`.
    public var isShutOffCrashed: Bool { kind == .shutOff && reason == Int32(VIR_DOMAIN_SHUTOFF_CRASHED.rawValue) }
    /// shut off, `VIR_DOMAIN_SHUTOFF_MIGRATED`: it now runs elsewhere.
    public var isShutOffMigrated: Bool { kind == .shutOff && reason == Int32(VIR_DOMAIN_SHUTOFF_MIGRATED.rawValue) }
}
