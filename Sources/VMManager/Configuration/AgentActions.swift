/// Every action of the resource agent, in one table (as ``Parameters`` is for its settings).
///
/// The same table produces the meta-data's `<actions>`, the usage text of both faces, and the agent's
/// dispatch: an action argument is an action only when it is a case here, and the agent's `switch` over the
/// cases is exhaustive, so an action cannot be advertised and not handled, or handled and not advertised.
///
/// The order of the cases is the order of the meta-data and of the usage text.
public enum AgentAction: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case start
    case stop
    case monitor
    case status
    case migrateTo = "migrate_to"
    case migrateFrom = "migrate_from"
    case reload
    case validateAll = "validate-all"
    case metaData = "meta-data"
    /// OCF 1.1's name of `reload`; not in the meta-data, which ra-api-1.dtd validates.
    case reloadAgent = "reload-agent"
    case usage
    case help

    /// The action's name, as the agent's argument.
    public var description: String { rawValue }

    /// What the meta-data advertises of an action: Pacemaker's default operation timeout, and for a
    /// recurring action its interval and `OCF_CHECK_LEVEL`.
    public struct Advertisement: Sendable, Hashable {
        public let timeout: Duration
        public let interval: Duration?
        public let depth: Int?
    }

    /// How an action appears under heartbeat v1.
    public enum HeartbeatUse: Sendable, Hashable {
        /// In the usage text (what haresources' ResourceManager runs).
        case listed
        /// Answered, but not in the usage text.
        case accepted
    }

    /// The `<action>` of the meta-data, or nil for an action answered but not advertised. Under OCF every
    /// action is answered (the agent's face there takes any single argument as an action).
    public var advertisement: Advertisement? {
        switch self {
        case .start: .init(timeout: .seconds(120), interval: nil, depth: nil)
        case .stop: .init(timeout: .seconds(90), interval: nil, depth: nil)
        case .monitor: .init(timeout: .seconds(30), interval: .seconds(10), depth: 0)
        case .status: .init(timeout: .seconds(30), interval: nil, depth: nil)
        case .migrateTo: .init(timeout: .seconds(120), interval: nil, depth: nil)
        case .migrateFrom: .init(timeout: .seconds(60), interval: nil, depth: nil)
        case .reload: .init(timeout: .seconds(10), interval: nil, depth: nil)
        case .validateAll: .init(timeout: .seconds(10), interval: nil, depth: nil)
        case .metaData: .init(timeout: .seconds(5), interval: nil, depth: nil)
        case .reloadAgent, .usage, .help: nil
        }
    }

    /// Whether heartbeat v1's face (`vmmanager <guest> [key=value ...] <action>`) answers the action.
    public var heartbeat: HeartbeatUse? {
        switch self {
        case .start, .stop, .status: .listed
        case .monitor: .accepted
        case .migrateTo, .migrateFrom, .reload, .validateAll, .metaData, .reloadAgent, .usage, .help: nil
        }
    }

    /// Whether the action goes on with the settings that can still be read when the configuration is broken.
    /// A stop or a status that failed on a typo would lie: the guest stopped nowhere (the node is fenced), or
    /// "stopped" said of a running guest (it ends up running twice).
    public var toleratesBrokenConfiguration: Bool {
        switch self {
        case .stop, .monitor, .status: true
        default: false
        }
    }

    /// The actions in the meta-data, in order.
    public static var advertised: [AgentAction] { allCases.filter { $0.advertisement != nil } }

    /// The actions of heartbeat v1's usage text, in order.
    public static var heartbeatListed: [AgentAction] { allCases.filter { $0.heartbeat == .listed } }

    /// The action of a heartbeat v1 command line's last argument, when heartbeat answers it.
    public init?(heartbeat argument: String) {
        guard let action = AgentAction(rawValue: argument), action.heartbeat != nil else { return nil }
        self = action
    }
}
