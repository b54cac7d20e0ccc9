internal import CLibvirt

/// An error from libvirt, or from this binding's own guard rails around it (a deadline that passed,
/// a connection that was closed).
///
/// libvirt keeps its last error in thread-local storage, so the binding copies it on the same thread,
/// right after the failing call (see ``BlockingCall``); nothing libvirt says is lost or printed.
///
/// Match on the code:
/// ```swift
/// do { try await connection.lookupDomain(name: "web") }
/// catch let error as LibvirtError where error.code == .noDomain { ... }
/// ```
public struct LibvirtError: Error, Sendable, CustomStringConvertible {
    /// libvirt's `virErrorNumber`, or one of the binding's own codes (negative numbers).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// The call did not return before its deadline (the binding's own code). The daemon may be
        /// hung or overloaded; the call may still complete later on the daemon's side.
        public static let timedOut = Self(rawValue: -1)
        /// The binding was asked to do something on a connection that was already closed.
        public static let connectionClosed = Self(rawValue: -2)
        /// libvirt returned failure but left no error behind.
        public static let unknown = Self(rawValue: -3)
        /// No thread could be created to make the call (the binding's own code; the process or the system is
        /// out of threads or memory). The call was not made.
        public static let threadUnavailable = Self(rawValue: -4)

        public var description: String {
            switch self {
            case .timedOut: return "timed out"
            case .connectionClosed: return "connection closed"
            case .unknown: return "unknown error"
            case .threadUnavailable: return "no thread"
            default: return Self.libvirtNames[rawValue] ?? "VIR_ERR_\(rawValue)"
            }
        }
    }

    /// libvirt's `virErrorDomain`: which part of libvirt raised the error (qemu, remote, rpc, ...).
    public struct Origin: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public var description: String { Self.libvirtNames[rawValue] ?? "origin \(rawValue)" }
    }

    public let code: Code
    public let origin: Origin
    /// libvirt's own message, unchanged (or the binding's, for its own codes).
    public let message: String
    /// The C function that failed, e.g. `virDomainCreateWithFlags`.
    public let operation: String
    /// What it was called on: a domain name or a connection URI.
    public let target: String?

    public init(code: Code, origin: Origin = .none, message: String, operation: String, target: String? = nil) {
        self.code = code
        self.origin = origin
        self.message = message
        self.operation = operation
        self.target = target
    }

    public var description: String {
        let on = target.map { " on '\($0)'" } ?? ""
        return "\(operation)\(on) failed: \(message) [\(code)\(origin == .none ? "" : ", \(origin)")]"
    }

    /// True when the error says the domain does not exist (`VIR_ERR_NO_DOMAIN`).
    public var isNoDomain: Bool { code == .noDomain }

    /// Copies libvirt's thread-local last error. Must run on the thread of the failing call, before any
    /// other libvirt call on that thread.
    static func last(operation: String, target: String?) -> LibvirtError {
        defer { virResetLastError() }
        guard let raw = virGetLastError() else {
            return LibvirtError(
                code: .unknown, message: "libvirt reported a failure without an error message",
                operation: operation, target: target)
        }
        let message = raw.pointee.message.map { String(cString: $0) } ?? "no message"
        return LibvirtError(
            code: Code(rawValue: raw.pointee.code), origin: Origin(rawValue: raw.pointee.domain),
            message: message, operation: operation, target: target)
    }
}
