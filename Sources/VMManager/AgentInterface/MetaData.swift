/// OCF meta-data, generated from ``Parameters`` and ``AgentAction`` (one table each; never kept by hand).
///
/// It validates against resource-agents' `ra-api-1.dtd` (ocf-tester checks that), which predates OCF 1.1:
/// it has no `reloadable` attribute, no `<deprecated>` and no `reload-agent` action. So the agent
/// advertises `reload` (and answers `reload-agent` too), and parameters that a reload can change are
/// the ones with `unique="0"`, which is how Pacemaker reads agents that advertise `reload`.
///
/// The `version` attribute is the agent's own (``vmmanagerVersion``); the `<version>` element is the version of
/// the OCF standard it implements.
enum MetaData {
    static func xml() -> String {
        var out = """
            <?xml version="1.0"?>
            <!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
            <resource-agent name="guest" version="\(vmmanagerVersion)">
            <version>1.1</version>
            <longdesc lang="en">
            Manages one libvirt guest for high availability, under Pacemaker (OCF) and heartbeat v1. Start defines \
            the guest from its XML with a pinned UUID and MACs, refuses when it runs on a peer, resumes it from a \
            managed-save image when there is one (users' sessions survive a takeover) and returns only when the \
            guest is ready (guest agent, serial line, TCP port or timer). Stop suspends the guest to disk, falls \
            back to a graceful shutdown, then destroy, within the operation's timeout. Parameters with the names \
            of ClusterLabs' VirtualDomain keep their meaning.
            </longdesc>
            <shortdesc lang="en">Manages a libvirt guest (VirtualDomain drop-in with suspend-on-stop)</shortdesc>
            <parameters>

            """
        for p in Parameters.all {
            out += parameter(
                p.name, unique: p.uniqueGroup != nil, type: p.kind.rawValue, default: p.defaultValue,
                short: p.shortDescription, long: p.longDescription)
        }
        for c in Parameters.refusedFromVirtualDomain {
            out += parameter(
                c.name, unique: false, type: "string", default: "",
                short: "VirtualDomain's \(c.name): not supported, refused when set",
                long: "Listed so that a resource switching from VirtualDomain passes the cluster tools' "
                    + "checks; when set, validate-all and start fail (OCF_ERR_CONFIGURED): \(c.reason).")
        }
        out += """
            </parameters>
            <actions>

            """
        for action in AgentAction.advertised {
            out += self.action(action)
        }
        out += """
            </actions>
            </resource-agent>

            """
        return out
    }

    /// `<action name="monitor" timeout="30s" interval="10s" depth="0" />`
    private static func action(_ action: AgentAction) -> String {
        guard let a = action.advertisement else { return "" }
        var attributes = " timeout=\"\(seconds(a.timeout))\""
        if let interval = a.interval { attributes += " interval=\"\(seconds(interval))\"" }
        if let depth = a.depth { attributes += " depth=\"\(depth)\"" }
        return "<action name=\"\(action.rawValue)\"\(attributes) />\n"
    }

    /// A duration in whole seconds as OCF writes it (`120s`).
    private static func seconds(_ d: Duration) -> String { "\(d.components.seconds)s" }

    private static func parameter(
        _ name: String, unique: Bool, type: String, default value: String, short: String,
        long: String
    ) -> String {
        let defaultAttribute = value.isEmpty ? "" : " default=\"\(escape(value))\""
        return """
            <parameter name="\(name)" unique="\(unique ? 1 : 0)" required="0">
            <longdesc lang="en">\(escape(long))</longdesc>
            <shortdesc lang="en">\(escape(short))</shortdesc>
            <content type="\(type)"\(defaultAttribute) />
            </parameter>

            """
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
