import ArgumentParser
import Foundation
import Logging
import VMManager
import VMManagerDelivery

struct Alert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pacemaker alert agent: notify lost nodes, fencing and failed resource operations.",
        discussion: """
            Reads Pacemaker's CRM_alert_* environment (or, with --stdin, NUL-separated KEY=VALUE pairs as `env -0` \
            prints them), records the alert in the spool like any transition, and starts a detached flush. Successful \
            resource operations, cancelled ones and attribute alerts are not notified. \
            Resources/pacemaker/alert_vmmanager.sh is the script to configure as the alert's path.

            Examples:
              CRM_alert_kind=node CRM_alert_node=node2 CRM_alert_desc=lost vmctl alert
              env -0 | grep -z ^CRM_alert_ | vmctl alert --stdin
            """)

    @Option(help: ArgumentHelp("vmmanager configuration file.", valueName: "path"))
    var config: String = NotifySettings.defaultConfigPath
    @Flag(help: "Read the CRM_alert_* variables from stdin (NUL-separated KEY=VALUE), e.g. through sudo.")
    var stdin = false
    @Flag(help: "Deliver now and wait, instead of starting a detached flush.")
    var wait = false

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        if stdin {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            for pair in data.split(separator: 0) {
                let text = String(decoding: pair, as: UTF8.self)
                guard let eq = text.firstIndex(of: "="), text.hasPrefix("CRM_alert_") || text.hasPrefix("CRM_notify_")
                else { continue }
                environment[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
        }
        guard let event = PacemakerAlert.event(environment: environment) else { return }
        var logger = Logger(label: "vmctl.alert") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .error
        let notifier = Notifier.load(configPath: config, logger: logger)
        let outcome =
            wait
            ? notifier.record(event)
            : notifier.recordAndFlush(event, flushExecutable: Notifier.currentExecutable)
        if case .failed(let why) = outcome {
            FileHandle.standardError.write(Data("vmctl alert: \(why)\n".utf8))
            throw ExitCode(1)
        }
        if wait, case .spooled = outcome {
            let report = await notifier.deliverPending()
            if !report.allDelivered { throw ExitCode(1) }
        }
    }
}
