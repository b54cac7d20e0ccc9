import FoundationEssentials
import VMManager
#if canImport(Glibc)
import Glibc
#endif

/// The full resource agent: every action of both faces (``AgentInvocation``). Installed as
/// `<prefix>/lib/vmmanager/vmmanager-agent`; the `vmmanager` front runs it for every action that the node's
/// `vmctl watch` does not answer.
@main
enum Agent {
    static func main() async {
        let invocation = AgentInvocation(
            arguments: Array(CommandLine.arguments.dropFirst()),
            environment: ProcessInfo.processInfo.environment)
        exit(await invocation.run())
    }
}
