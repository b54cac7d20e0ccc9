internal import CLibvirt

/// Progress or result of a domain job (migration, save, ...), from ``Domain/jobStats(completed:)``.
/// Sizes are bytes, times milliseconds, as libvirt reports them; a field libvirt did not report is nil.
public struct JobStats: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case none, bounded, unbounded, completed, failed, cancelled
        case other(Int32)
    }

    public let kind: Kind
    /// Every field libvirt returned, by its name (`data_total`, `downtime`, ...).
    let fields: [String: TypedParameters.Value]

    init(type: Int32, parameters: [String: TypedParameters.Value]) {
        switch UInt32(bitPattern: type) {
        case VIR_DOMAIN_JOB_NONE.rawValue: kind = .none
        case VIR_DOMAIN_JOB_BOUNDED.rawValue: kind = .bounded
        case VIR_DOMAIN_JOB_UNBOUNDED.rawValue: kind = .unbounded
        case VIR_DOMAIN_JOB_COMPLETED.rawValue: kind = .completed
        case VIR_DOMAIN_JOB_FAILED.rawValue: kind = .failed
        case VIR_DOMAIN_JOB_CANCELLED.rawValue: kind = .cancelled
        default: kind = .other(type)
        }
        fields = parameters
    }

    /// A numeric field by its libvirt name (`VIR_DOMAIN_JOB_*` constants), e.g. `"memory_bps"`.
    public func value(_ name: String) -> UInt64? { fields[name]?.uint64 }

    /// Whether a job is in progress.
    public var isActive: Bool { kind == .bounded || kind == .unbounded }
    /// `time_elapsed`, ms since the job started.
    public var elapsedMilliseconds: UInt64? { value("time_elapsed") }
    /// `data_total`: bytes the job has to move (may grow while a live migration runs).
    public var dataTotal: UInt64? { value("data_total") }
    /// `data_processed`
    public var dataProcessed: UInt64? { value("data_processed") }
    /// `data_remaining`
    public var dataRemaining: UInt64? { value("data_remaining") }
    /// `memory_bps`: transfer rate, bytes per second.
    public var memoryBytesPerSecond: UInt64? { value("memory_bps") }
    /// `downtime`: ms the guest was paused at the end of a migration, as QEMU reports it
    /// (completed migrations only).
    public var downtimeMilliseconds: UInt64? { value("downtime") }
    /// `setup_time`, ms spent before memory transfer began.
    public var setupMilliseconds: UInt64? { value("setup_time") }
    /// `memory_iteration`: how many passes over guest memory a live migration made.
    public var memoryIterations: UInt64? { value("memory_iteration") }
}
