import AgentWire
import FoundationEssentials
import Logging

/// The agent as heartbeat v1's ResourceManager runs it: `vmmanager <guest> [key=value ...] start|stop|status`,
/// from a haresources entry `vmmanager::<guest>[::key=value...]`.
///
/// heartbeat ignores the exit code of `status` and greps its stdout: `running` (or `OK`) means held,
/// `not running` means not held, anything else means not held. So stdout carries exactly one word,
/// `running` or `stopped`, and everything else goes to stderr. heartbeat has no operation timeouts:
/// `start_timeout` and `stop_timeout` bound the actions.
struct HeartbeatMode {
    let guest: String
    let assignments: [String]
    let action: AgentAction
    let environment: [String: String]
    let output: AgentOutput

    func run() async -> Int32 {
        var logger = AgentInvocation.logger(environment, output: output)
        logger[metadataKey: "guest"] = "\(ConfigError.excerpt(guest))"
        var parameters: [String: String] = [:]
        for a in assignments {
            guard let eq = a.firstIndex(of: "="), eq != a.startIndex else {
                output.standardError(
                    "vmmanager: argument '\(ConfigError.excerpt(a))' is not key=value (haresources: "
                        + "vmmanager::\(ConfigError.excerpt(guest))::key=value)\n")
                return action == .status ? printStatus(false) : 2
            }
            parameters[String(a[..<eq])] = String(a[a.index(after: eq)...])
        }
        var settings: GuestSettings
        do {
            settings = try GuestSettings.resolve(parameters: parameters, guest: guest)
        } catch {
            // A failed stop reboots the node, and a status that says "stopped" for a running guest lets it
            // run twice: both go on with every setting that can still be read.
            guard action.toleratesBrokenConfiguration,
                let lenient = try? GuestSettings.resolve(
                    parameters: parameters, guest: guest,
                    lenient: true)
            else {
                output.standardError("vmmanager: \(error)\n")
                return action == .status ? printStatus(false) : 1
            }
            for problem in lenient.problems {
                output.standardError("vmmanager: configuration error, \(action) goes on with the default: \(problem)\n")
            }
            settings = lenient
        }
        // heartbeat v1 names resources by their haresources argument: remember the domain under it.
        let reporter = NotifyingReporter(
            notifier: Notifier(configuration: settings.file, logger: logger), logger: logger)
        let controller = GuestController(
            settings: settings, reporter: reporter, logger: logger,
            resourceInstance: GuestController.heartbeatInstance(guest))
        do {
            switch action {
            case .start:
                _ = try await controller.start(budget: settings.startTimeout)
                return 0
            case .stop:
                _ = try await controller.stop(budget: settings.stopTimeout)
                return 0
            case .status, .monitor:
                switch await controller.monitor(
                    depth: 0, timeout: AgentInvocation.bounded(OperationTimeout.monitorDefault, environment))
                {
                case .running: return printStatus(true)
                case .notRunning: return printStatus(false)
                case .failed(let why):
                    output.standardError("vmmanager: \(why)\n")
                    return printStatus(false)
                case .misconfigured(let why):
                    // The resource's guest still runs: heartbeat must see it held, or it starts it elsewhere.
                    output.standardError("vmmanager: \(why)\n")
                    return printStatus(true)
                }
            case .migrateTo, .migrateFrom, .reload, .validateAll, .metaData, .reloadAgent, .usage, .help:
                return 2  // not heartbeat actions (``AgentAction/heartbeat``): never routed here
            }
        } catch {
            output.standardError("vmmanager: \(action) \(ConfigError.excerpt(guest)) failed: \(error)\n")
            return 1
        }
    }

    /// The one word heartbeat reads. Exit code as LSB status (0 running, 3 stopped), which heartbeat ignores.
    func printStatus(_ running: Bool) -> Int32 {
        output.standardOutput(running ? "running\n" : "stopped\n")
        return running ? 0 : 3
    }
}
