import FoundationEssentials
internal import CLibvirt
#if canImport(Glibc)
import Glibc
#endif

/// One libvirt domain (a virtual machine), defined or running, on one ``Connection``.
///
/// A `Domain` keeps its connection alive. Its name and UUID are read once, locally, when it is looked up.
/// Every method is one libvirt call under the connection's deadline (or its own `timeout`).
public final class Domain: @unchecked Sendable {
    // @unchecked: virDomainPtr is reference counted and thread-safe in libvirt; `handle` never changes
    // and is released exactly once, in deinit.
    let handle: OpaquePointer
    public let connection: Connection
    public let name: String
    public let uuid: UUID

    init(handle: OpaquePointer, connection: Connection) {
        self.handle = handle
        self.connection = connection
        self.name = virDomainGetName(handle).map { String(cString: $0) } ?? "?"
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        virDomainGetUUIDString(handle, &buffer)
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        self.uuid = UUID(uuidString: text) ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    }

    deinit {
        // Local: drops this process's reference; no daemon round trip.
        virDomainFree(handle)
    }

    /// Runs one call on this domain under the connection's deadline, or `timeout`; `discard` releases a
    /// result that came back after the deadline.
    func call<T: Sendable>(
        _ operation: String, timeout: Duration? = nil, discard: (@Sendable (T) -> Void)? = nil,
        _ body: @escaping @Sendable (OpaquePointer) throws(LibvirtError) -> T
    ) async throws(LibvirtError) -> T {
        let d = SendableOpaque(handle)
        return try await connection.call(operation, target: name, timeout: timeout, discard: discard) {
            (_) throws(LibvirtError) -> T in
            try body(d.pointer)
        }
    }

    /// Like ``call(_:timeout:_:)`` for C functions that return a negative number on failure.
    @discardableResult
    func status(
        _ operation: String, timeout: Duration? = nil, _ body: @escaping @Sendable (OpaquePointer) -> Int32
    ) async throws(LibvirtError) -> Int32 {
        let name = self.name
        return try await call(operation, timeout: timeout) { (d) throws(LibvirtError) -> Int32 in
            let rc = body(d)
            if rc < 0 { throw LibvirtError.last(operation: operation, target: name) }
            return rc
        }
    }

    // MARK: - State

    /// State and reason ([virDomainGetState](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetState)).
    public func state() async throws(LibvirtError) -> DomainState {
        let name = self.name
        return try await call("virDomainGetState") { (d) throws(LibvirtError) -> DomainState in
            var state: Int32 = 0
            var reason: Int32 = 0
            if virDomainGetState(d, &state, &reason, 0) < 0 {
                throw LibvirtError.last(operation: "virDomainGetState", target: name)
            }
            return DomainState(rawState: state, rawReason: reason)
        }
    }

    /// Basic figures ([virDomainGetInfo](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetInfo)).
    public func info() async throws(LibvirtError) -> DomainInfo {
        let name = self.name
        return try await call("virDomainGetInfo") { (d) throws(LibvirtError) -> DomainInfo in
            var info = virDomainInfo()
            if virDomainGetInfo(d, &info) < 0 { throw LibvirtError.last(operation: "virDomainGetInfo", target: name) }
            return DomainInfo(
                state: DomainState.Kind(raw: Int32(info.state)), maxMemoryKiB: UInt64(info.maxMem),
                memoryKiB: UInt64(info.memory), virtualCPUs: Int(info.nrVirtCpu), cpuTimeNanoseconds: info.cpuTime)
        }
    }

    /// Whether the domain is defined persistently (survives a stop; can have a managed-save image).
    public func isPersistent() async throws(LibvirtError) -> Bool {
        try await status("virDomainIsPersistent") { virDomainIsPersistent($0) } == 1
    }

    /// Whether the domain has a QEMU process (running, paused, ...).
    public func isActive() async throws(LibvirtError) -> Bool {
        try await status("virDomainIsActive") { virDomainIsActive($0) } == 1
    }

    /// The domain's XML
    /// ([virDomainGetXMLDesc](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetXMLDesc)).
    public func xml(_ flags: XMLFlags = []) async throws(LibvirtError) -> String {
        let name = self.name
        return try await call("virDomainGetXMLDesc") { (d) throws(LibvirtError) -> String in
            guard let s = virDomainGetXMLDesc(d, flags.rawValue) else {
                throw LibvirtError.last(operation: "virDomainGetXMLDesc", target: name)
            }
            defer { free(s) }
            return String(cString: s)
        }
    }

    // MARK: - Life cycle

    /// Starts a defined domain
    /// ([virDomainCreateWithFlags](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainCreateWithFlags)).
    /// If it has a managed-save image, libvirt restores that image instead of booting (unless `.forceBoot`).
    public func start(flags: StartFlags = [], timeout: Duration? = nil) async throws(LibvirtError) {
        try await status("virDomainCreateWithFlags", timeout: timeout) { virDomainCreateWithFlags($0, flags.rawValue) }
    }

    /// Asks the guest to shut down and returns at once; the guest may ignore it
    /// ([virDomainShutdownFlags](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainShutdownFlags)).
    public func shutdown(modes: ShutdownModes = [], timeout: Duration? = nil) async throws(LibvirtError) {
        try await status("virDomainShutdownFlags", timeout: timeout) { virDomainShutdownFlags($0, modes.rawValue) }
    }

    /// Stops the domain at once, like pulling the plug
    /// ([virDomainDestroyFlags](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainDestroyFlags)).
    /// - Parameter graceful: send SIGTERM only, never SIGKILL (`VIR_DOMAIN_DESTROY_GRACEFUL`).
    public func destroy(graceful: Bool = false, timeout: Duration? = nil) async throws(LibvirtError) {
        let flags = graceful ? VIR_DOMAIN_DESTROY_GRACEFUL.rawValue : 0
        try await status("virDomainDestroyFlags", timeout: timeout) { virDomainDestroyFlags($0, flags) }
    }

    /// Pauses the vCPUs; memory stays in RAM
    /// ([virDomainSuspend](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainSuspend)).
    public func suspend() async throws(LibvirtError) {
        try await status("virDomainSuspend") { virDomainSuspend($0) }
    }

    /// Resumes paused vCPUs ([virDomainResume](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainResume)).
    public func resume() async throws(LibvirtError) {
        try await status("virDomainResume") { virDomainResume($0) }
    }

    /// Removes the persistent definition
    /// ([virDomainUndefineFlags](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainUndefineFlags)).
    /// Never called implicitly by this package. A running domain keeps running, as a transient one.
    public func undefine(flags: UndefineFlags = []) async throws(LibvirtError) {
        try await status("virDomainUndefineFlags") { virDomainUndefineFlags($0, flags.rawValue) }
    }

    // MARK: - Save and restore

    /// Saves memory to libvirt's managed-save image and stops the domain; the next ``start(flags:timeout:)``
    /// resumes from it
    /// ([virDomainManagedSave](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainManagedSave)).
    /// Persistent domains only.
    public func managedSave(flags: SaveRestoreFlags = [], timeout: Duration? = nil) async throws(LibvirtError) {
        try await status("virDomainManagedSave", timeout: timeout) { virDomainManagedSave($0, flags.rawValue) }
    }

    /// Whether a managed-save image exists
    /// ([virDomainHasManagedSaveImage](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainHasManagedSaveImage)).
    public func hasManagedSaveImage() async throws(LibvirtError) -> Bool {
        try await status("virDomainHasManagedSaveImage") { virDomainHasManagedSaveImage($0, 0) } == 1
    }

    /// Deletes the managed-save image, so the next start cold-boots
    /// ([virDomainManagedSaveRemove](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainManagedSaveRemove)).
    public func removeManagedSaveImage() async throws(LibvirtError) {
        try await status("virDomainManagedSaveRemove") { virDomainManagedSaveRemove($0, 0) }
    }

    /// Saves memory to `path` and stops the domain
    /// ([virDomainSaveFlags](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainSaveFlags));
    /// ``Connection/restoreDomain(from:flags:timeout:)`` brings it back, on this host or another.
    public func save(to path: String, flags: SaveRestoreFlags = [], timeout: Duration? = nil) async throws(LibvirtError)
    {
        try await status("virDomainSaveFlags", timeout: timeout) { virDomainSaveFlags($0, path, nil, flags.rawValue) }
    }

    // MARK: - Jobs

    /// Statistics of the job running now, or of the last completed one
    /// ([virDomainGetJobStats](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetJobStats)).
    public func jobStats(completed: Bool = false) async throws(LibvirtError) -> JobStats {
        let name = self.name
        let flags = completed ? VIR_DOMAIN_JOB_STATS_COMPLETED.rawValue : 0
        return try await call("virDomainGetJobStats") { (d) throws(LibvirtError) -> JobStats in
            var type: Int32 = 0
            var params: virTypedParameterPtr?
            var count: Int32 = 0
            if virDomainGetJobStats(d, &type, &params, &count, flags) < 0 {
                throw LibvirtError.last(operation: "virDomainGetJobStats", target: name)
            }
            defer { virTypedParamsFree(params, count) }
            return JobStats(type: type, parameters: TypedParameters.read(params, count))
        }
    }

    /// Aborts the job running now (a migration, a save)
    /// ([virDomainAbortJob](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainAbortJob)).
    public func abortJob() async throws(LibvirtError) {
        try await status("virDomainAbortJob") { virDomainAbortJob($0) }
    }
}

/// Figures from ``Domain/info()``.
public struct DomainInfo: Sendable, Hashable {
    public let state: DomainState.Kind
    public let maxMemoryKiB: UInt64
    public let memoryKiB: UInt64
    public let virtualCPUs: Int
    public let cpuTimeNanoseconds: UInt64
}
