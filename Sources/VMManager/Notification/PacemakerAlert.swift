import FoundationEssentials

/// Pacemaker's alert interface (`CRM_alert_*` environment variables) turned into transition events, so that a
/// lost node or a fencing arrives in the same mail and webhook format as the guests' transitions.
///
/// Pacemaker runs the alert agent for node, fencing, resource and attribute alerts. Nodes and fencing are
/// always news. A resource operation is news only when it failed: the resource agent already reports the
/// successful starts, stops and migrations of guests, with more detail than Pacemaker has. Attribute changes
/// and cancelled operations are not notified.
public enum PacemakerAlert {
    /// The event for one alert, or nil when the alert is not worth a notification.
    /// - Parameters:
    ///   - environment: the process environment (`CRM_alert_*`, or the older `CRM_notify_*`).
    ///   - localNode: the node running the alert agent.
    public static func event(
        environment: [String: String], localNode: String = TransitionEvent.localNode
    )
        -> TransitionEvent?
    {
        func value(_ name: String) -> String? {
            let v = environment["CRM_alert_\(name)"] ?? environment["CRM_notify_\(name)"]
            return v.map { EventText.cleanControls($0).trimmed }.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let kind = value("kind") else { return nil }
        var details: [String: String] = [:]
        for (key, raw) in environment {
            for prefix in ["CRM_alert_", "CRM_notify_"] where key.hasPrefix(prefix) {
                let name = String(key.dropFirst(prefix.count))
                let v = EventText.cleanControls(raw).trimmed
                if !v.isEmpty, details[name] == nil { details[name] = v }
            }
        }
        var timestamp = Date()
        if let epoch = value("timestamp_epoch").flatMap(Double.init) {
            timestamp = Date(timeIntervalSince1970: epoch + (value("timestamp_usec").flatMap(Double.init) ?? 0) / 1e6)
        }
        let node = value("node")
        let desc = value("desc") ?? ""

        switch kind {
        case "node":
            guard let node else { return nil }
            let transition: TransitionKind
            switch desc {
            case "member": transition = .nodeJoined
            case "lost": transition = .nodeLost
            default: transition = TransitionKind(rawValue: "node-" + EventText.token(desc.lowercased()))
            }
            let id = value("nodeid").map { " (node id \($0))" } ?? ""
            let now = desc.isEmpty ? "in an unknown state" : desc
            return TransitionEvent(
                transition: transition, guest: nil, clusterNode: node,
                reason: "cluster node \(node)\(id) is now \(now)",
                node: localNode, timestamp: timestamp, source: .alert, details: details)
        case "fencing":
            let rc = value("rc") ?? ""
            let transition: TransitionKind = rc == "0" ? .fenced : .fencingFailed
            let task = value("task").map { "\($0) " } ?? ""
            return TransitionEvent(
                transition: transition, guest: nil, clusterNode: node,
                reason: desc.isEmpty ? "fencing \(task)of \(node ?? "a node") returned \(rc)" : desc,
                node: localNode, timestamp: timestamp, source: .alert, details: details)
        case "resource":
            guard desc != "Cancelled", let rsc = value("rsc"), let task = value("task") else { return nil }
            let rc = value("rc") ?? ""
            let expected = value("target_rc") ?? "0"
            if rc == expected { return nil }
            let interval = value("interval").flatMap { $0 == "0" ? nil : " (every \($0) ms)" } ?? ""
            let transition = TransitionKind(rawValue: EventText.token(task.lowercased()) + "-failed")
            return TransitionEvent(
                transition: transition, guest: nil, resource: rsc,
                reason: "\(task)\(interval) of \(rsc) returned \(rc), expected \(expected): "
                    + (desc.isEmpty ? "-" : desc),
                node: node ?? localNode, timestamp: timestamp, source: .alert, details: details)
        default:
            return nil
        }
    }
}
