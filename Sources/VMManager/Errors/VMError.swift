import Libvirt

/// What went wrong in a vmmanager action, in terms an admin (or a cluster manager) can act on.
///
/// The agent and `vmctl` turn ``Code`` into their exit codes; ``message`` says what failed, on what,
/// and what to do. The libvirt error behind it, if any, is kept in ``underlying``.
public struct VMError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable {
            case notFound, unreachable, timedOut, refused, invalidInput, misconfigured, notInstalled, permission, failed
        }
        private let kind: Kind
        /// The guest (domain) does not exist on the host.
        public static let notFound = Code(kind: .notFound)
        /// libvirtd cannot be reached (not running, wrong URI, no permission).
        public static let unreachable = Code(kind: .unreachable)
        /// A deadline passed.
        public static let timedOut = Code(kind: .timedOut)
        /// A safety check refused the action (duplicate MAC, guest running elsewhere, ...).
        public static let refused = Code(kind: .refused)
        /// The input (XML, arguments, configuration) is wrong.
        public static let invalidInput = Code(kind: .invalidInput)
        /// The resource's settings are wrong or contradict what runs (no guest named, a setting refused, an XML
        /// that names another guest).
        public static let misconfigured = Code(kind: .misconfigured)
        /// Something the action needs is missing from this host (a file, a program).
        public static let notInstalled = Code(kind: .notInstalled)
        /// The action lacks a permission it needs on this host.
        public static let permission = Code(kind: .permission)
        /// Anything else: libvirt or the guest failed.
        public static let failed = Code(kind: .failed)

        public var description: String { "\(kind)" }

        /// Matches a ``VMError`` of this code: `catch VMError.Code.timedOut`, `case VMError.Code.refused:` in a
        /// switch over an error.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? VMError)?.code == code
        }
    }

    public let code: Code
    public let message: String
    public let underlying: LibvirtError?

    public init(_ code: Code, _ message: String, underlying: LibvirtError? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }

    /// Classifies a libvirt error and adds the hint an admin needs.
    /// - Parameter doing: what we were doing, e.g. "starting guest web1".
    public init(_ error: LibvirtError, doing: String) {
        switch error.code {
        case .timedOut:
            self.init(.timedOut, "\(doing): \(error.message)", underlying: error)
        case .noDomain:
            self.init(
                .notFound, "\(doing): no such guest (\(error.message)); `vmctl list --all` shows the defined ones",
                underlying: error)
        case .noConnect, .authFailed, .rpc, .connectionClosed, .authUnavailable, .accessDenied:
            self.init(
                .unreachable,
                "\(doing): cannot talk to libvirt: \(error.message). Is libvirtd running, and is "
                    + "the URI right (--connect)?", underlying: error)
        case .xmlError, .xmlDetail, .xmlInvalidSchema, .invalidArg, .configUnsupported:
            self.init(.invalidInput, "\(doing): \(error.message)", underlying: error)
        case .operationTimeout, .agentUnresponsive:
            self.init(.timedOut, "\(doing): \(error.message)", underlying: error)
        default:
            self.init(.failed, "\(doing): \(error.message) [\(error.operation), \(error.code)]", underlying: error)
        }
    }
}

extension VMError {
    /// A configuration error as a ``VMError``: `.notInstalled` when the file is missing, `.misconfigured` otherwise.
    public init(_ error: ConfigError) {
        self.init(error.kind == .notFound ? .notInstalled : .misconfigured, "\(error)")
    }

    /// An error an action threw, as a ``VMError``: itself, or a configuration error (``init(_:)`` with a
    /// ``ConfigError``).
    /// nil for any other error, which each face reports its own way.
    public init?(classifying error: any Error) {
        switch error {
        case let error as VMError: self = error
        case let error as ConfigError: self.init(error)
        default: return nil
        }
    }
}

/// Runs `body`, turning any ``LibvirtError`` into a ``VMError`` that says what we were doing.
func libvirt<T>(_ doing: @autoclosure () -> String, _ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as LibvirtError { throw VMError(error, doing: doing()) }
}
