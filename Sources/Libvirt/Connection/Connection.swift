import FoundationEssentials
import Logging
import Synchronization
internal import CLibvirt
#if canImport(Glibc)
import Glibc
#endif

/// A connection to one libvirt daemon (one hypervisor on one host), e.g. `qemu:///system`,
/// `qemu+ssh://node2/system`, or libvirt's built-in `test:///default`.
///
/// Every call has a deadline (``Options/timeout`` unless the method takes its own), so a hung daemon
/// turns into a ``LibvirtError`` with code ``LibvirtError/Code/timedOut`` instead of a hung caller.
/// Keepalive is enabled on remote connections, so libvirt itself closes a connection to a daemon that
/// stopped answering and unblocks the threads still waiting on it.
///
/// Wraps [virConnectOpen](https://libvirt.org/html/libvirt-libvirt-host.html#virConnectOpen).
public final class Connection: @unchecked Sendable {
    // @unchecked: only for `handle`, a virConnectPtr, which libvirt allows to be used from many threads at
    // once; it never changes after init. Everything else is immutable or atomic.

    public struct Options: Sendable {
        /// Open read-only (`virConnectOpenReadOnly`): enough for state queries, allowed to more users.
        public var readOnly: Bool
        /// The deadline of each call that does not take its own.
        public var timeout: Duration
        /// libvirt keepalive: a probe every `interval` seconds, the connection closed after `count`
        /// unanswered probes. `nil` turns it off. Only remote (socket) connections use it.
        public var keepAlive: (interval: Int32, count: UInt32)?
        public var logger: Logger

        public init(
            readOnly: Bool = false, timeout: Duration = .seconds(30),
            keepAlive: (interval: Int32, count: UInt32)? = (interval: 5, count: 3),
            logger: Logger = Logger(label: "libvirt", factory: { _ in SwiftLogNoOpLogHandler() })
        ) {
            self.readOnly = readOnly
            self.timeout = timeout
            self.keepAlive = keepAlive
            self.logger = logger
        }
    }

    let handle: OpaquePointer
    /// The URI the connection was opened with (what the caller asked for).
    public let uri: String
    public let options: Options
    /// Set once, by ``close()`` (or never: then deinit closes it).
    private let isClosed = Atomic<Bool>(false)

    private init(handle: OpaquePointer, uri: String, options: Options) {
        self.handle = handle
        self.uri = uri
        self.options = options
    }

    /// Opens a connection.
    /// - Parameters:
    ///   - uri: a libvirt URI; `qemu:///system` for the local QEMU/KVM daemon.
    ///   - options: read-only, deadline, keepalive, logger.
    /// - Throws: ``LibvirtError``: the daemon refused or is unreachable (`VIR_ERR_NO_CONNECT`, with
    ///   libvirt's reason), or did not answer within the deadline (``LibvirtError/Code/timedOut``).
    public static func open(_ uri: String, options: Options = Options()) async throws(LibvirtError) -> Connection {
        BrokenPipe.ignore()
        if !EventLoop.start() {
            options.logger.warning(
                "libvirt's event loop is not running: no keepalive and no domain events",
                metadata: [
                    "libvirt.uri": "\(uri)"
                ])
        }
        let started = ContinuousClock.now
        let readOnly = options.readOnly
        let raw = try await BlockingCall.pointer(
            readOnly ? "virConnectOpenReadOnly" : "virConnectOpen", target: uri, timeout: options.timeout,
            discard: { late in _ = virConnectClose(late.pointer) }
        ) { () -> SendableOpaque? in
            let p = readOnly ? virConnectOpenReadOnly(uri) : virConnectOpen(uri)
            return p.map(SendableOpaque.init)
        }
        let connection = Connection(handle: raw.pointer, uri: uri, options: options)
        if let keepAlive = options.keepAlive {
            // Returns 1 when the driver does not use keepalive (local/test drivers): not an error.
            _ = try? await BlockingCall.status("virConnectSetKeepAlive", target: uri, timeout: options.timeout) {
                virConnectSetKeepAlive(raw.pointer, keepAlive.interval, keepAlive.count)
            }
        }
        options.logger.debug(
            "connected",
            metadata: [
                "libvirt.uri": "\(uri)", "libvirt.read_only": "\(readOnly)",
                "duration_ms": "\((ContinuousClock.now - started).milliseconds)",
            ])
        return connection
    }

    deinit {
        // virConnectClose talks to the daemon; a hung daemon must not hang whoever drops the last reference.
        if !isClosed.load(ordering: .acquiring) {
            let h = SendableOpaque(handle)
            do throws(DedicatedThread.StartError) {
                try DedicatedThread.start(name: "libvirt-close") { _ = virConnectClose(h.pointer) }
            } catch {
                options.logger.warning(
                    "connection not closed; it stays open until the process ends",
                    metadata: [
                        "libvirt.uri": "\(uri)", "error": "\(error)",
                    ])
            }
        }
    }

    /// Closes the connection (`virConnectClose`). Domains looked up through it keep libvirt's own
    /// reference and stay usable until they are released. Calling it twice does nothing.
    public func close() async throws(LibvirtError) {
        let alreadyClosed = isClosed.exchange(true, ordering: .acquiringAndReleasing)
        if alreadyClosed { return }
        let h = SendableOpaque(handle)
        try await BlockingCall.status("virConnectClose", target: uri, timeout: options.timeout) {
            virConnectClose(h.pointer)
        }
    }

    /// Runs one libvirt call on this connection, under its deadline unless `timeout` is given; `discard`
    /// releases a result that came back after the deadline (see ``BlockingCall/run(_:target:timeout:discard:_:)``).
    func call<T: Sendable>(
        _ operation: String, target: String? = nil, timeout: Duration? = nil,
        discard: (@Sendable (T) -> Void)? = nil,
        _ body: @escaping @Sendable (OpaquePointer) throws(LibvirtError) -> T
    ) async throws(LibvirtError) -> T {
        let closed = isClosed.load(ordering: .acquiring)
        let target = target ?? uri
        if closed {
            throw LibvirtError(
                code: .connectionClosed, message: "the connection to \(uri) was closed",
                operation: operation, target: target)
        }
        let h = SendableOpaque(handle)
        let started = ContinuousClock.now
        defer {
            options.logger.trace(
                "libvirt call",
                metadata: [
                    "libvirt.call": "\(operation)", "libvirt.target": "\(target)",
                    "duration_ms": "\((ContinuousClock.now - started).milliseconds)",
                ])
        }
        return try await BlockingCall.run(
            operation, target: target, timeout: timeout ?? options.timeout, discard: discard
        ) {
            () throws(LibvirtError) -> T in try body(h.pointer)
        }
    }

    /// Like ``call(_:target:timeout:_:)`` for C functions that return a negative number on failure.
    @discardableResult
    func status(
        _ operation: String, target: String? = nil, timeout: Duration? = nil,
        _ body: @escaping @Sendable (OpaquePointer) -> Int32
    ) async throws(LibvirtError) -> Int32 {
        let t = target ?? uri
        return try await call(operation, target: t, timeout: timeout) { (h) throws(LibvirtError) -> Int32 in
            let rc = body(h)
            if rc < 0 { throw LibvirtError.last(operation: operation, target: t) }
            return rc
        }
    }

    // MARK: - Host

    /// The host name of the machine the daemon runs on
    /// ([virConnectGetHostname](https://libvirt.org/html/libvirt-libvirt-host.html#virConnectGetHostname)).
    public func hostname() async throws(LibvirtError) -> String {
        try await call("virConnectGetHostname") { (h) throws(LibvirtError) -> String in
            guard let s = virConnectGetHostname(h) else {
                throw LibvirtError.last(operation: "virConnectGetHostname", target: self.uri)
            }
            defer { free(s) }
            return String(cString: s)
        }
    }

    /// The canonical URI as the daemon reports it
    /// ([virConnectGetURI](https://libvirt.org/html/libvirt-libvirt-host.html#virConnectGetURI)).
    public func canonicalURI() async throws(LibvirtError) -> String {
        try await call("virConnectGetURI") { (h) throws(LibvirtError) -> String in
            guard let s = virConnectGetURI(h) else {
                throw LibvirtError.last(operation: "virConnectGetURI", target: self.uri)
            }
            defer { free(s) }
            return String(cString: s)
        }
    }

    /// libvirt's version on the daemon side, e.g. 9000000 for 9.0.0.
    public func libvirtVersion() async throws(LibvirtError) -> UInt {
        try await call("virConnectGetLibVersion") { (h) throws(LibvirtError) -> UInt in
            var v: UInt = 0
            if virConnectGetLibVersion(h, &v) < 0 {
                throw LibvirtError.last(operation: "virConnectGetLibVersion", target: self.uri)
            }
            return v
        }
    }

    /// Whether the connection still works (`virConnectIsAlive`); false once keepalive gave up on it.
    public func isAlive() async -> Bool {
        (try? await status("virConnectIsAlive") { virConnectIsAlive($0) }) == 1
    }

    // MARK: - Domains

    /// Looks a domain up by name
    /// ([virDomainLookupByName](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainLookupByName)).
    /// - Throws: ``LibvirtError`` with code `.noDomain` when no such domain is defined or running.
    public func lookupDomain(name: String) async throws(LibvirtError) -> Domain {
        let raw = try await call("virDomainLookupByName", target: name, discard: SendableOpaque.releaseDomain) {
            (h) throws(LibvirtError) -> SendableOpaque in
            guard let d = virDomainLookupByName(h, name) else {
                throw LibvirtError.last(operation: "virDomainLookupByName", target: name)
            }
            return SendableOpaque(d)
        }
        return Domain(handle: raw.pointer, connection: self)
    }

    /// Looks a domain up by UUID
    /// ([virDomainLookupByUUIDString](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainLookupByUUIDString)).
    public func lookupDomain(uuid: UUID) async throws(LibvirtError) -> Domain {
        let text = uuid.uuidString.lowercased()
        let raw = try await call("virDomainLookupByUUIDString", target: text, discard: SendableOpaque.releaseDomain) {
            (h) throws(LibvirtError) -> SendableOpaque in
            guard let d = virDomainLookupByUUIDString(h, text) else {
                throw LibvirtError.last(operation: "virDomainLookupByUUIDString", target: text)
            }
            return SendableOpaque(d)
        }
        return Domain(handle: raw.pointer, connection: self)
    }

    /// Looks a domain up by name, returning nil instead of throwing when it does not exist.
    public func domainIfExists(name: String) async throws(LibvirtError) -> Domain? {
        do { return try await lookupDomain(name: name) } catch  where error.code == .noDomain { return nil }
    }

    /// Looks a domain up by UUID, returning nil instead of throwing when it does not exist.
    public func domainIfExists(uuid: UUID) async throws(LibvirtError) -> Domain? {
        do { return try await lookupDomain(uuid: uuid) } catch  where error.code == .noDomain { return nil }
    }

    /// All domains matching `filter`
    /// ([virConnectListAllDomains](https://libvirt.org/html/libvirt-libvirt-domain.html#virConnectListAllDomains)).
    public func domains(_ filter: DomainListFilter = []) async throws(LibvirtError) -> [Domain] {
        let raws = try await call(
            "virConnectListAllDomains", discard: { late in late.forEach(SendableOpaque.releaseDomain) }
        ) { (h) throws(LibvirtError) -> [SendableOpaque] in
            var list: UnsafeMutablePointer<virDomainPtr?>?
            let n = virConnectListAllDomains(h, &list, filter.rawValue)
            if n < 0 { throw LibvirtError.last(operation: "virConnectListAllDomains", target: self.uri) }
            defer { free(list) }
            return (0..<Int(n)).compactMap { list?[$0].map(SendableOpaque.init) }
        }
        return raws.map { Domain(handle: $0.pointer, connection: self) }
    }

    /// Defines (or redefines) a persistent domain from XML
    /// ([virDomainDefineXMLFlags](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainDefineXMLFlags)).
    /// A redefinition of a running domain takes effect at its next cold boot.
    /// - Parameter validate: check the XML against libvirt's schema first (`VIR_DOMAIN_DEFINE_VALIDATE`).
    public func defineDomain(xml: String, validate: Bool = true) async throws(LibvirtError) -> Domain {
        let flags = validate ? UInt32(VIR_DOMAIN_DEFINE_VALIDATE.rawValue) : 0
        let raw = try await call("virDomainDefineXMLFlags", discard: SendableOpaque.releaseDomain) {
            (h) throws(LibvirtError) -> SendableOpaque in
            guard let d = virDomainDefineXMLFlags(h, xml, flags) else {
                throw LibvirtError.last(operation: "virDomainDefineXMLFlags", target: self.uri)
            }
            return SendableOpaque(d)
        }
        return Domain(handle: raw.pointer, connection: self)
    }

    /// Creates and starts a transient domain
    /// ([virDomainCreateXML](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainCreateXML)).
    /// Transient domains vanish when they stop and cannot have a managed-save image.
    public func createTransientDomain(
        xml: String, flags: StartFlags = [], timeout: Duration? = nil
    ) async throws(LibvirtError) -> Domain {
        let raw = try await call("virDomainCreateXML", timeout: timeout, discard: SendableOpaque.releaseDomain) {
            (h) throws(LibvirtError) -> SendableOpaque in
            guard let d = virDomainCreateXML(h, xml, flags.rawValue) else {
                throw LibvirtError.last(operation: "virDomainCreateXML", target: self.uri)
            }
            return SendableOpaque(d)
        }
        return Domain(handle: raw.pointer, connection: self)
    }

    /// Restores a domain from a file written by ``Domain/save(to:flags:timeout:)``
    /// ([virDomainRestoreFlags](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainRestoreFlags)).
    public func restoreDomain(
        from path: String, flags: SaveRestoreFlags = [], timeout: Duration? = nil
    ) async throws(LibvirtError) {
        try await status("virDomainRestoreFlags", target: path, timeout: timeout) { h in
            virDomainRestoreFlags(h, path, nil, flags.rawValue)
        }
    }
}

/// An opaque C pointer that may cross threads. libvirt objects are reference counted and thread-safe.
struct SendableOpaque: @unchecked Sendable {
    // @unchecked: only used for libvirt object pointers, which libvirt allows across threads.
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    /// Drops a domain reference nobody took (a lookup answered after its deadline). Each reference also
    /// holds the connection: leaked, they would keep a given-up connection's socket open for good.
    static let releaseDomain: @Sendable (SendableOpaque) -> Void = { late in virDomainFree(late.pointer) }
}

extension Duration {
    var milliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}
