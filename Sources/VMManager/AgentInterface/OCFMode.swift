import AgentWire
import FoundationEssentials
import Logging

/// The agent as Pacemaker's executor runs it: the action is the only argument, parameters arrive as
/// `OCF_RESKEY_*`, the operation's timeout as `OCF_RESKEY_CRM_meta_timeout` (ms).
struct OCFMode {
    /// The action argument; an action only when ``AgentAction`` has it.
    let action: String
    let environment: [String: String]
    let output: AgentOutput

    var parameters: [String: String] {
        var p: [String: String] = [:]
        for (key, value) in environment where key.hasPrefix("OCF_RESKEY_") && !key.hasPrefix("OCF_RESKEY_CRM_meta") {
            p[String(key.dropFirst("OCF_RESKEY_".count))] = value
        }
        // The one meta attribute the settings read: the resource's priority ranks it in the admission queues.
        if let priority = environment["OCF_RESKEY_CRM_meta_priority"] { p["CRM_meta_priority"] = priority }
        return p
    }

    /// The operation's timeout from Pacemaker (at most the time left that the agent's front handed on), or nil
    /// outside Pacemaker.
    var operationTimeout: Duration? {
        OperationTimeout.given(environment).map { AgentInvocation.bounded($0, environment) }
    }

    var isProbe: Bool {
        action == AgentAction.monitor.rawValue && (environment["OCF_RESKEY_CRM_meta_interval"] ?? "0") == "0"
    }

    func run() async -> Int32 {
        guard let action = AgentAction(rawValue: action) else {
            return fail(.errUnimplemented, "action '\(ConfigError.excerpt(self.action))' is not implemented")
        }
        switch action {
        case .metaData:
            output.standardOutput(MetaData.xml())
            return OCF.success.rawValue
        case .usage, .help:
            output.standardOutput(AgentInvocation.ocfUsage)
            return OCF.success.rawValue
        case .start, .stop, .monitor, .status, .migrateTo, .migrateFrom, .validateAll, .reload, .reloadAgent:
            return await perform(action)
        }
    }

    /// An action on the guest: the settings resolved, then the guest's controller.
    private func perform(_ action: AgentAction) async -> Int32 {
        let logger = AgentInvocation.logger(environment, output: output)
        var settings: GuestSettings
        do {
            settings = try GuestSettings.resolve(parameters: parameters, parameterPrefix: "OCF_RESKEY_")
        } catch {
            // A broken configuration must not make stop or monitor lie (VirtualDomain answers "stopped", and
            // the guest ends up running twice; or its stop fails and the node is fenced). They go on with the
            // agent's own parameters and defaults, which still name the guest or find it remembered.
            // They go on with every setting that can still be read (the lock, the state directory, [notify]),
            // and only the broken ones fall back to their defaults.
            guard action.toleratesBrokenConfiguration,
                let fallback = try? GuestSettings.resolve(
                    parameters: parameters, parameterPrefix: "OCF_RESKEY_",
                    lenient: true)
            else { return fail(AgentInvocation.code(for: error), "\(error)") }
            for problem in fallback.problems {
                logger.error("configuration error; \(action) goes on with the default: \(problem)")
            }
            settings = fallback
        }
        let controller = GuestController(
            settings: settings,
            reporter: NotifyingReporter(
                notifier: Notifier(configuration: settings.file, logger: logger), logger: logger), logger: logger,
            resourceInstance: environment["OCF_RESOURCE_INSTANCE"],
            // Pacemaker passes its feature set to every agent it runs; ocf-tester and
            // a hand-run agent do not, and have no CIB to write.
            pacemakerResource: environment["OCF_RESKEY_crm_feature_set"] != nil
                ? environment["OCF_RESOURCE_INSTANCE"] : nil)
        do {
            switch action {
            case .validateAll, .reload, .reloadAgent:
                return validate(controller)
            case .start:
                let budget = (operationTimeout ?? settings.startTimeout) - .seconds(2)
                let outcome = try await controller.start(budget: max(.seconds(1), budget))
                if let why = outcome.restoreFailure { logger.warning("\(why)") }
                return OCF.success.rawValue
            case .stop:
                let budget = (operationTimeout ?? settings.stopTimeout) - .seconds(5)
                _ = try await controller.stop(budget: max(.seconds(2), budget))
                return OCF.success.rawValue
            case .monitor, .status:
                let depth = Int(environment["OCF_CHECK_LEVEL"] ?? "0") ?? 0
                let timeout = (operationTimeout ?? .seconds(20)) - .seconds(1)
                switch await controller.monitor(depth: depth, timeout: max(.seconds(1), timeout)) {
                case .running: return OCF.success.rawValue
                case .notRunning: return OCF.notRunning.rawValue
                case .failed(let why): return fail(.errGeneric, why)
                case .misconfigured(let why): return fail(.errConfigured, why)
                }
            case .migrateTo:
                guard let target = environment["OCF_RESKEY_CRM_meta_migrate_target"] else {
                    return fail(
                        .errConfigured, "migrate_to needs OCF_RESKEY_CRM_meta_migrate_target (set by Pacemaker)")
                }
                let budget = (operationTimeout ?? .seconds(120)) - .seconds(5)
                let report = try await controller.migrate(to: target, budget: max(.seconds(2), budget))
                logger.info(
                    "migrated",
                    metadata: [
                        "target": "\(target)",
                        "downtime_ms": "\(report.downtimeMilliseconds ?? 0)",
                    ])
                return OCF.success.rawValue
            case .migrateFrom:
                let budget = (operationTimeout ?? .seconds(60)) - .seconds(2)
                try await controller.waitForIncoming(budget: max(.seconds(1), budget))
                return OCF.success.rawValue
            case .metaData, .usage, .help:
                return OCF.success.rawValue  // answered by run() without settings
            }
        } catch {
            return fail(AgentInvocation.code(for: error), "\(error)")
        }
    }

    func validate(_ controller: GuestController) -> Int32 {
        do {
            // What the parameters name, not what an earlier start remembered: validate-all checks the configuration.
            guard let guest = try controller.managedGuest(strict: true, remembered: false) else {
                return fail(.errConfigured, "set 'domain' or 'config' (the guest's XML)")
            }
            // The [notify] section is part of the configuration: a typo there silently loses every mail.
            _ = try Notifier(configuration: controller.settings.file).settings(forGuest: guest.name)
            if let problem = controller.validationProblems().first { throw problem }
            return OCF.success.rawValue
        } catch {
            return fail(AgentInvocation.code(for: error), "\(error)")
        }
    }

    /// Prints the reason the way Pacemaker shows it (`ocf-exit-reason:`) and returns the code.
    func fail(_ code: OCF, _ reason: String) -> Int32 {
        let prefix = environment["OCF_EXIT_REASON_PREFIX"] ?? "ocf-exit-reason:"
        output.standardError(prefix + reason.replacing("\n", with: " ") + "\n")
        return code.rawValue
    }
}
