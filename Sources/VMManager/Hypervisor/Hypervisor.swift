import FoundationEssentials
import Libvirt
import Logging

/// One libvirt host as vmmanager sees it: a connection plus the lookups every action starts with.
/// The agent and `vmctl` both reach guests through it.
public final class Hypervisor: Sendable {
    public let connection: Connection
    public let logger: Logger

    public init(connection: Connection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Whether a libvirt URI names the LXC driver (`lxc:///system`, `lxc+tcp://host/system`): its guests are
    /// containers, with no saved state, no live migration, and a `libvirt_lxc` controller instead of a QEMU.
    public static func servesContainers(_ uri: String) -> Bool { uri.hasPrefix("lxc") }

    /// Connects to `uri`.
    /// - Parameters:
    ///   - timeout: the deadline of every libvirt call on this host.
    ///   - keepAlive: libvirt keepalive probes; short-lived checks (a monitor) skip the extra round trip.
    public static func connect(
        _ uri: String, readOnly: Bool = false, timeout: Duration = .seconds(30), keepAlive: Bool = true,
        logger: Logger = Logger(label: "vmmanager", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> Hypervisor {
        var options = Connection.Options(readOnly: readOnly, timeout: timeout, logger: logger)
        if !keepAlive { options.keepAlive = nil }
        let connection = try await libvirt("connecting to \(uri)") { try await Connection.open(uri, options: options) }
        return Hypervisor(connection: connection, logger: logger)
    }

    /// The guest called `reference`: a domain name, or a UUID.
    /// - Throws: ``VMError`` `.notFound` with the name in the message.
    public func guest(_ reference: String) async throws -> Domain {
        let found = try await libvirt("looking up guest \(reference)") { () async throws -> Domain? in
            if let uuid = UUID(uuidString: reference), let d = try await connection.domainIfExists(uuid: uuid) {
                return d
            }
            return try await connection.domainIfExists(name: reference)
        }
        guard let found else {
            throw VMError(
                .notFound,
                "no guest named '\(reference)' on \(connection.uri); `vmctl list --all` shows the defined ones")
        }
        return found
    }

    /// The guest, or nil when it is not defined here.
    public func guestIfDefined(_ reference: String) async throws -> Domain? {
        do { return try await guest(reference) } catch VMError.Code.notFound { return nil }
    }
}
