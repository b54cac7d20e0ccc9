import Libvirt

/// What went wrong in a vmmanager action, in terms an admin (or a cluster manager) can act on.
///
/// The agent and `vmctl` turn ``Code`` into their exit codes; ``message`` says what failed, on what,
/// and what to do. The libvirt error behind it, if any, is kept in ``underlying``.
public struct VMError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable {
            case notFound, unreachable, timedOut, refused, invalidInput, notInstalled, failed
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
        /// Something the action needs is missing from this host (a file, a program).
        public static let notInstalled = Code(kind: .notInstalled)
        /// Anything else: libvirt or the guest failed.
        public static let failed = Code(kind: .failed)

        public var description: String { "\(kind)" }
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
            self.init(.notFound, "\(doing): no such guest (\(error.message)); `vmctl list --all` shows the defined ones",
                      underlying: error)
        case .noConnect, .authFailed, .rpc, .connectionClosed, .authUnavailable, .accessDenied:
            self.init(.unreachable, "\(doing): cannot talk to libvirt: \(error.message). Is libvirtd running, and is "
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

/// Runs `body`, turning any ``LibvirtError`` into a ``VMError`` that says what we were doing.
func libvirt<T>(_ doing: @autoclosure () -> String, _ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as LibvirtError { throw VMError(error, doing: doing()) }
}
