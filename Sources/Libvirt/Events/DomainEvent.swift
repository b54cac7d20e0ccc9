import FoundationEssentials
internal import CLibvirt

/// One event from libvirt about a domain: a life-cycle change, or the guest agent (dis)connecting.
public struct DomainEvent: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// `VIR_DOMAIN_EVENT_ID_LIFECYCLE`
        case lifecycle(Lifecycle)
        /// `VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE`: the agent in the guest connected or disconnected.
        case agent(connected: Bool, reason: Int32)
    }

    /// A life-cycle event: its type (`VIR_DOMAIN_EVENT_*`) and detail (`VIR_DOMAIN_EVENT_<TYPE>_*`).
    /// Unknown types keep their raw number.
    public struct Lifecycle: Sendable, Hashable, CustomStringConvertible {
        public enum EventType: Sendable, Hashable {
            case defined, undefined, started, suspended, resumed, stopped, shutdown, pmSuspended, crashed
            case other(Int32)
        }
        public let type: EventType
        public let detail: Int32

        init(rawType: Int32, detail: Int32) {
            let types: [EventType] = [
                .defined, .undefined, .started, .suspended, .resumed, .stopped, .shutdown,
                .pmSuspended, .crashed,
            ]
            type = rawType >= 0 && Int(rawType) < types.count ? types[Int(rawType)] : .other(rawType)
            self.detail = detail
        }

        /// The detail in words, as `virsh event` prints it.
        public var detailName: String {
            let names: [String]
            switch type {
            case .defined: names = ["added", "updated", "renamed", "from snapshot"]
            case .undefined: names = ["removed", "renamed"]
            case .started: names = ["booted", "migrated", "restored", "from snapshot", "wakeup"]
            case .suspended:
                names = [
                    "paused", "migrated", "ioerror", "watchdog", "restored", "from snapshot",
                    "api error", "post-copy", "post-copy failed",
                ]
            case .resumed: names = ["unpaused", "migrated", "from snapshot", "post-copy", "post-copy failed"]
            case .stopped: names = ["shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot"]
            case .shutdown: names = ["finished", "guest", "host"]
            case .pmSuspended: names = ["memory", "disk"]
            case .crashed: names = ["panicked", "crashloaded"]
            case .other: names = []
            }
            return detail >= 0 && Int(detail) < names.count ? names[Int(detail)] : "detail \(detail)"
        }

        public var typeName: String {
            switch type {
            case .defined: "defined"
            case .undefined: "undefined"
            case .started: "started"
            case .suspended: "suspended"
            case .resumed: "resumed"
            case .stopped: "stopped"
            case .shutdown: "shutdown"
            case .pmSuspended: "pmsuspended"
            case .crashed: "crashed"
            case .other(let n): "event \(n)"
            }
        }

        public var description: String { "\(typeName) (\(detailName))" }
    }

    public let domainName: String
    public let domainUUID: UUID
    public let kind: Kind
    /// When this process received it.
    public let received: Date

    public var description: String {
        switch kind {
        case .lifecycle(let l): "\(domainName): \(l)"
        case .agent(let connected, _): "\(domainName): guest agent \(connected ? "connected" : "disconnected")"
        }
    }
}

extension Connection {
    /// Domain events of every domain on this connection, as an `AsyncStream`, delivered by libvirt's
    /// default event loop (see ``EventLoop``). The registration ends when the stream is dropped or the
    /// iterating task is cancelled.
    public func events() async throws(LibvirtError) -> AsyncStream<DomainEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: DomainEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let sink = EventSink(continuation)
        let lifecycle:
            @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = {
                _, domain, event, detail, opaque in
                guard let domain, let opaque else { return 0 }
                let sink = Unmanaged<EventSink>.fromOpaque(opaque).takeUnretainedValue()
                sink.deliver(domain, .lifecycle(.init(rawType: event, detail: detail)))
                return 0
            }
        let agent: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = {
            _, domain, state, reason, opaque in
            guard let domain, let opaque else { return }
            let sink = Unmanaged<EventSink>.fromOpaque(opaque).takeUnretainedValue()
            let connected = state == Int32(VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED.rawValue)
            sink.deliver(domain, .agent(connected: connected, reason: reason))
        }
        // Each registration holds its own reference to the sink; libvirt drops it through `release`
        // when the callback is deregistered.
        let release: @convention(c) (UnsafeMutableRawPointer?) -> Void = { opaque in
            if let opaque { Unmanaged<EventSink>.fromOpaque(opaque).release() }
        }
        let registering = SendableOpaque(handle)
        // A registration that answers after the deadline has no stream to feed: it is taken back at once.
        let unregister: @Sendable ([Int32]) -> Void = { late in
            for id in late { _ = virConnectDomainEventDeregisterAny(registering.pointer, id) }
        }
        let ids = try await call("virConnectDomainEventRegisterAny", discard: unregister) {
            (h) throws(LibvirtError) -> [Int32] in
            let opaque = Unmanaged.passUnretained(sink).toOpaque()
            _ = Unmanaged.passRetained(sink)
            let a = vmmRegisterLifecycleEvents(h, lifecycle, opaque, release)
            if a < 0 {
                let e = LibvirtError.last(operation: "virConnectDomainEventRegisterAny", target: self.uri)
                Unmanaged.passUnretained(sink).release()
                throw e
            }
            _ = Unmanaged.passRetained(sink)
            let b = vmmRegisterAgentLifecycleEvents(
                h, unsafeBitCast(agent, to: virConnectDomainEventCallback.self),
                opaque, release)
            if b < 0 {
                // Drivers without agent events (e.g. test://) still deliver life-cycle events.
                virResetLastError()
                Unmanaged.passUnretained(sink).release()
                return [a]
            }
            return [a, b]
        }
        continuation.onTermination = { _ in
            // Deregistering talks to the daemon: never on the caller's thread.
            do throws(DedicatedThread.StartError) {
                try DedicatedThread.start(name: "libvirt-unreg") {
                    for id in ids { _ = virConnectDomainEventDeregisterAny(registering.pointer, id) }
                    _ = self  // keeps the connection open until the callbacks are gone
                }
            } catch {
                self.options.logger.warning(
                    "event callbacks not deregistered; they stay until the connection closes",
                    metadata: ["libvirt.uri": "\(self.uri)", "error": "\(error)"])
            }
        }
        return stream
    }
}

/// Receives events on libvirt's event-loop thread and yields them to the stream.
final class EventSink: Sendable {
    private let continuation: AsyncStream<DomainEvent>.Continuation
    init(_ continuation: AsyncStream<DomainEvent>.Continuation) { self.continuation = continuation }

    func deliver(_ domain: OpaquePointer, _ kind: DomainEvent.Kind) {
        let name = virDomainGetName(domain).map { String(cString: $0) } ?? "?"
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        virDomainGetUUIDString(domain, &buffer)
        let uuid = UUID(uuidString: buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        continuation.yield(DomainEvent(domainName: name, domainUUID: uuid ?? UUID(), kind: kind, received: Date()))
    }
}
