import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// One up/down transition, as the notifier spools, mails and posts it.
///
/// It is what an admin reads during a takeover, so it carries everything the thesis's mail had (name, status,
/// uptime, config) plus why it happened and how long each step took. ``id`` is unique per event and stays the
/// same across retries, so receivers can drop the duplicates that at-least-once delivery may produce.
public struct TransitionEvent: Codable, Sendable, Hashable, Identifiable {
    /// Who recorded the event.
    public enum Source: String, Codable, Sendable, Hashable {
        /// The resource agent, at the end of a cluster action.
        case agent
        /// `vmctl watch`, from libvirt's life-cycle events.
        case watcher
        /// `vmctl alert`, run by Pacemaker as an alert agent.
        case alert
        /// `vmctl notify test`.
        case test
        /// `vmctl` acting by hand.
        case vmctl
    }

    /// How long the steps of the transition took; nil when a step did not happen.
    public struct Durations: Codable, Sendable, Hashable {
        /// Restoring the saved image.
        public var restoreSeconds: Double?
        /// From "running" to "ready" (the readiness probe).
        public var bootWaitSeconds: Double?
        /// The pause QEMU measured at the switch-over of a live migration.
        public var migrationDowntimeMilliseconds: UInt64?

        public init(
            restoreSeconds: Double? = nil, bootWaitSeconds: Double? = nil,
            migrationDowntimeMilliseconds: UInt64? = nil
        ) {
            self.restoreSeconds = restoreSeconds
            self.bootWaitSeconds = bootWaitSeconds
            self.migrationDowntimeMilliseconds = migrationDowntimeMilliseconds
        }

        public var isEmpty: Bool {
            restoreSeconds == nil && bootWaitSeconds == nil && migrationDowntimeMilliseconds == nil
        }
    }

    public var id: UUID
    public var transition: TransitionKind
    /// The guest (libvirt domain) name; nil for cluster events (a node lost, a fencing).
    public var guest: String?
    public var guestUUID: UUID?
    /// Pacemaker alerts: the cluster node whose state changed or that was fenced.
    public var clusterNode: String?
    /// Pacemaker alerts: the resource whose operation failed.
    public var resource: String?
    /// Why, in words (the agent's reason, libvirt's event detail, Pacemaker's description).
    public var reason: String
    /// The node the transition happened on (its host name).
    public var node: String
    /// libvirt state with reason before and after, e.g. `shutOff (saved)` → `running (restored)`.
    public var previousState: String?
    public var newState: String?
    public var guestUptimeSeconds: Double?
    /// The guest's domain XML.
    public var configPath: String?
    public var durations: Durations
    public var timestamp: Date
    public var source: Source
    /// Anything else worth keeping (Pacemaker's `CRM_alert_*` values, libvirt's raw event).
    public var details: [String: String]

    public init(
        id: UUID = UUID(), transition: TransitionKind, guest: String?, guestUUID: UUID? = nil,
        clusterNode: String? = nil,
        resource: String? = nil, reason: String, node: String = TransitionEvent.localNode,
        previousState: String? = nil, newState: String? = nil, guestUptimeSeconds: Double? = nil,
        configPath: String? = nil, durations: Durations = Durations(), timestamp: Date = Date(),
        source: Source, details: [String: String] = [:]
    ) {
        self.id = id
        self.transition = transition
        self.guest = guest
        self.guestUUID = guestUUID
        self.clusterNode = clusterNode
        self.resource = resource
        self.reason = reason
        self.node = node
        self.previousState = previousState
        self.newState = newState
        self.guestUptimeSeconds = guestUptimeSeconds
        self.configPath = configPath
        self.durations = durations
        self.timestamp = timestamp
        self.source = source
        self.details = details
    }

    /// This machine's host name (`uname -n`), the node name heartbeat and Pacemaker use by default.
    public static let localNode: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }()

    /// The thesis's subject, `Virtual machine <name> <transition> on <host>`, and its equivalents for cluster
    /// events. Not yet safe for a header: ``MailMessage`` sanitises and encodes it.
    public var subject: String {
        if let guest { return "Virtual machine \(guest) \(transition) on \(node)" }
        if let resource { return "Resource \(resource) \(transition) on \(node)" }
        if let clusterNode {
            let raw = transition.rawValue
            let what = raw.hasPrefix("node-") ? String(raw.dropFirst(5)) : raw
            return "Cluster node \(clusterNode) \(what) (reported by \(node))"
        }
        return "vmmanager \(transition) on \(node)"
    }
}
