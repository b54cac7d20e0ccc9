// What the agent's front (`vmmanager`) and `vmctl watch`'s monitor server say to each other over
// `<lock_dir>/monitor.sock`. Plain Swift and Glibc only: the front links this and nothing else, so that a
// monitor maps no libvirt, libxml2, curl or Foundation.
#if canImport(Glibc)
import Glibc
#endif

/// The monitor protocol. Every message is one frame: a 4-byte big-endian length, then that many bytes holding
/// a list of strings (a 4-byte big-endian count, then each string as a 4-byte big-endian length and its UTF-8
/// bytes). The first string names the protocol and its version; one request, one answer, per connection.
public enum MonitorWire {
    /// The first string of every message.
    public static let magic = "vmmanager-monitor/1"
    /// The largest frame either side accepts (a monitor's output is a few lines).
    public static let maximumFrame = 1 << 20

    /// What the agent was given: its arguments after the program name and the environment entries that
    /// the agent's code reads (``isRelevant(_:)``).
    public struct Request: Equatable, Sendable {
        public var arguments: [String]
        public var environment: [String: String]

        public init(arguments: [String], environment: [String: String]) {
            self.arguments = arguments
            self.environment = environment.filter { MonitorWire.isRelevant($0.key) }
        }

        public func encoded() -> [UInt8] {
            var fields = [MonitorWire.magic, "request", String(arguments.count)] + arguments
            for (key, value) in environment.sorted(by: { $0.key < $1.key }) { fields += [key, value] }
            return MonitorWire.frame(fields)
        }

        /// The request in a frame's payload, or nil when it is not one.
        public init?(payload: [UInt8]) {
            guard let fields = MonitorWire.fields(payload), fields.count >= 3, fields[0] == MonitorWire.magic,
                fields[1] == "request", let count = Int(fields[2]), count >= 0, fields.count >= 3 + count,
                (fields.count - 3 - count) % 2 == 0
            else { return nil }
            arguments = Array(fields[3..<3 + count])
            var environment: [String: String] = [:]
            var i = 3 + count
            while i < fields.count {
                environment[fields[i]] = fields[i + 1]
                i += 2
            }
            self.environment = environment
        }
    }

    /// The server's answer: what the agent would have returned and printed, or that the front must run the
    /// full agent itself.
    public enum Response: Equatable, Sendable {
        case answer(code: Int32, standardOutput: String, standardError: String)
        case fallBack(reason: String)

        public func encoded() -> [UInt8] {
            switch self {
            case .answer(let code, let out, let err):
                MonitorWire.frame([MonitorWire.magic, "answer", String(code), out, err])
            case .fallBack(let reason): MonitorWire.frame([MonitorWire.magic, "fall-back", reason])
            }
        }

        public init?(payload: [UInt8]) {
            guard let fields = MonitorWire.fields(payload), fields.count >= 3, fields[0] == MonitorWire.magic else {
                return nil
            }
            switch fields[1] {
            case "answer" where fields.count == 5:
                guard let code = Int32(fields[2]), (0...255).contains(code) else { return nil }
                self = .answer(code: code, standardOutput: fields[3], standardError: fields[4])
            case "fall-back" where fields.count == 3:
                self = .fallBack(reason: fields[2])
            default:
                return nil
            }
        }
    }

    /// The environment entries the agent's code reads: `OCF_*` (parameters, meta attributes, the resource
    /// instance, the check level, the exit reason prefix, tracing) and the cluster's log settings (`HA_*`).
    public static func isRelevant(_ key: String) -> Bool {
        key.hasPrefix("OCF_") || key == HandedDeadline.variable
            || ["HA_LOGFILE", "HA_logfile", "HA_DEBUGLOG", "HA_LOGFACILITY", "HA_logfacility"]
                .contains(key)
    }

    static func frame(_ fields: [String]) -> [UInt8] {
        var payload: [UInt8] = []
        append(UInt32(fields.count), to: &payload)
        for field in fields {
            let bytes = Array(field.utf8)
            append(UInt32(bytes.count), to: &payload)
            payload += bytes
        }
        var out: [UInt8] = []
        append(UInt32(payload.count), to: &out)
        return out + payload
    }

    static func fields(_ payload: [UInt8]) -> [String]? {
        var offset = 0
        func number() -> Int? {
            guard offset + 4 <= payload.count else { return nil }
            defer { offset += 4 }
            return payload[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        guard let count = number(), count <= payload.count / 4 else { return nil }
        var fields: [String] = []
        fields.reserveCapacity(count)
        for _ in 0..<count {
            guard let length = number(), offset + length <= payload.count else { return nil }
            fields.append(String(decoding: payload[offset..<offset + length], as: UTF8.self))
            offset += length
        }
        return offset == payload.count ? fields : nil
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
