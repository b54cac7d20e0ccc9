import Crypto
import FoundationEssentials
import VMManager

/// The JSON body a webhook receives, as docs/notifications.md documents it.
///
/// It is a type of its own, not ``TransitionEvent``'s Codable form, so that the spool's format can change
/// without breaking receivers. Every key is always present; what is unknown is `null`. Keys are sorted, so
/// the same event always produces the same bytes (and the same signature).
public struct WebhookPayload: Encodable, Sendable {
    public static let schema = "vmmanager.transition.v1"

    let event: TransitionEvent

    public init(_ event: TransitionEvent) { self.event = event }

    enum Keys: String, CodingKey {
        case schema, id, timestamp, transition, source, node, guest, clusterNode = "cluster_node", resource
        case reason, previousState = "previous_state", newState = "new_state"
        case guestUptimeSeconds = "guest_uptime_seconds", configPath = "config_path", durations, details, subject
    }

    enum GuestKeys: String, CodingKey { case name, uuid }

    enum DurationKeys: String, CodingKey {
        case restoreSeconds = "restore_seconds", bootWaitSeconds = "boot_wait_seconds"
        case migrationDowntimeMilliseconds = "migration_downtime_ms"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(Self.schema, forKey: .schema)
        try c.encode(event.id.uuidString.lowercased(), forKey: .id)
        try c.encode(MailMessage.iso8601(event.timestamp), forKey: .timestamp)
        try c.encode(event.transition.rawValue, forKey: .transition)
        try c.encode(event.source.rawValue, forKey: .source)
        try c.encode(event.node, forKey: .node)
        if let name = event.guest {
            var g = c.nestedContainer(keyedBy: GuestKeys.self, forKey: .guest)
            try g.encode(name, forKey: .name)
            try g.encode(event.guestUUID?.uuidString.lowercased(), forKey: .uuid)
        } else {
            try c.encodeNil(forKey: .guest)
        }
        try c.encode(event.clusterNode, forKey: .clusterNode)
        try c.encode(event.resource, forKey: .resource)
        try c.encode(event.reason, forKey: .reason)
        try c.encode(event.previousState, forKey: .previousState)
        try c.encode(event.newState, forKey: .newState)
        try c.encode(event.guestUptimeSeconds, forKey: .guestUptimeSeconds)
        try c.encode(event.configPath, forKey: .configPath)
        var d = c.nestedContainer(keyedBy: DurationKeys.self, forKey: .durations)
        try d.encode(event.durations.restoreSeconds, forKey: .restoreSeconds)
        try d.encode(event.durations.bootWaitSeconds, forKey: .bootWaitSeconds)
        try d.encode(event.durations.migrationDowntimeMilliseconds, forKey: .migrationDowntimeMilliseconds)
        try c.encode(event.details, forKey: .details)
        try c.encode(event.subject, forKey: .subject)
    }

    /// The body's bytes.
    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, numbers and dictionaries of strings cannot fail.
        return Array((try? encoder.encode(self)) ?? Data("{}".utf8))
    }

    /// `sha256=<hex>`: HMAC-SHA256 of the exact body bytes with the shared secret.
    public static func signature(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        let hex = Array("0123456789abcdef".utf8)
        return "sha256=" + String(decoding: mac.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0x0f)]] }, as: UTF8.self)
    }
}
