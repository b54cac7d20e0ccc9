import FoundationEssentials
import Libvirt

/// Everything the agent (and `vmctl`) needs to act on one guest, resolved from, in rising priority:
/// the table's defaults, `[global]` of vmmanager.conf, `[guest NAME]`, and the agent's own parameters
/// (`OCF_RESKEY_*` under Pacemaker, `key=value` arguments under heartbeat).
public struct GuestSettings: Sendable {
    /// Where a value came from, for error messages.
    public enum Source: Sendable, Hashable, CustomStringConvertible {
        case defaultValue
        case file(path: String, line: Int)
        case parameter(String)

        public var description: String {
            switch self {
            case .defaultValue: "default"
            case .file(let path, let line): "\(path):\(line)"
            case .parameter(let name): name
            }
        }
    }

    /// The raw values with their sources (known parameters, compatibility ones, and notify keys).
    public let values: [String: (value: String, source: Source)]
    /// The configuration file, when one was read.
    public let file: ConfigFile?

    public let domainName: String?
    /// Absolute path of the domain XML, when configured.
    public let configPath: String?
    public let hypervisor: String
    public let stopMethods: [StopMethod]
    /// A libvirt LXC container (`<domain type='lxc'>`, or an lxc:// hypervisor when no XML is given): no managed
    /// save, no live migration, no forced boot past a saved image.
    public internal(set) var isContainer = false
    public let shutdownModes: ShutdownModes
    /// Where the stop chain's saved image goes and where start looks for it.
    public let savedState: SavedStateSetting
    public let saveConfigOnStop: Bool
    public let readiness: ReadinessSetting
    /// VirtualDomain's `monitor_scripts`, run at every monitor of a running guest.
    public let monitorScripts: MonitorScripts
    /// `sync_config_on_stop`: csync2 the XML after writing it back (implies `saveConfigOnStop`).
    public var syncConfigOnStop = false
    /// `start_resources`: start the guest's inactive networks and pools before it.
    public var startResources = false
    /// Utilization attributes to keep in the CIB: attribute → set (true) or delete (false); absent = leave.
    public var utilization: [String: Bool] = [:]
    /// VirtualDomain parameters that are set but refused here, with the reason (validate-all and start fail).
    public var refused: [String] = []
    public let startTimeout: Duration
    public let stopTimeout: Duration
    public let peers: [String]
    public let migration: MigrationSettings
    public let managedSaveDirectory: String
    public let quarantineDirectory: String
    public let stateDirectory: String
    public let lockDirectory: String
    /// How many boots, restores and saves may run at once on this node (`*_slots`).
    public var admissionLimits = Admission.Limits.defaults()
    /// What `vmctl watch` does when the guest fails outside any cluster action.
    public var failureResponse = FailureResponse.Policy.none
    /// Rank among guests waiting for a slot: `priority`, else Pacemaker's `priority` meta attribute, else 0.
    public var priority = 0
    /// With `lenient`: the wrong values that were replaced by their defaults, and the file's bad lines.
    public private(set) var problems: [ConfigError] = []

    /// Keys a `[guest]` or `[global]` section may hold besides the parameters: the notifier's per-guest ones.
    public static var notifyKeys: Set<String> { NotifySettings.guestKeys }

    /// Resolves the settings of one guest.
    /// - Parameters:
    ///   - parameters: the agent's parameters by name (already stripped of `OCF_RESKEY_`).
    ///   - parameterPrefix: how to name a parameter in errors (`OCF_RESKEY_` or "" for heartbeat arguments).
    ///   - guest: the guest named on the command line (heartbeat), if any: a domain name or an XML path.
    /// - Throws: ``ConfigError`` naming the file and line, or the parameter, of a wrong value.
    ///   - ignoringConfigFile: read no configuration file.
    ///   - lenient: never throw for a wrong value: keep every setting that can be read and give each broken
    ///     one its default, listing them in ``problems``. The fallback that lets stop and monitor stay exact
    ///     with a broken file or parameter: a stop that fails over a typo gets the node fenced, and one that
    ///     drops `lock_dir` or `[notify]` takes another lock than vmctl or reports nothing.
    public static func resolve(
        parameters: [String: String], parameterPrefix: String = "", guest: String? = nil,
        ignoringConfigFile: Bool = false, lenient: Bool = false
    ) throws(ConfigError) -> GuestSettings {
        var parameters = parameters
        if let guest {
            // heartbeat: `vmmanager web1 start` or `vmmanager web1/web1.xml start` (like the thesis's
            // BRAVO/Delta/Delta.vmx).
            if guest.hasSuffix(".xml") || guest.contains("/") {
                parameters["config", default: guest] = guest
            } else {
                parameters["domain", default: guest] = guest
            }
        }
        let explicitFile = parameters["conf_file"]
        let filePath = explicitFile ?? Parameters.named("conf_file")!.defaultValue
        var file: ConfigFile?
        var problems: [ConfigError] = []
        if !ignoringConfigFile {
            do { file = try ConfigFile.load(filePath) } catch  where error.kind == .notFound && explicitFile == nil {
                file = nil
            } catch  where lenient {
                problems.append(error)
                if let readable = ConfigFile.loadLenient(filePath) {
                    file = readable.file
                    problems += readable.problems.filter { $0.line != error.line }
                }
            }
        }

        var values: [String: (value: String, source: Source)] = [:]
        for p in Parameters.all where !p.defaultValue.isEmpty { values[p.name] = (p.defaultValue, .defaultValue) }
        let allowed = Parameters.names.union(Parameters.refusedNames).union(notifyKeys)
        func apply(_ entries: [ConfigFile.Entry], in file: ConfigFile) throws(ConfigError) {
            for e in entries {
                guard allowed.contains(e.key) else {
                    let error = ConfigError(
                        .unknownKey, file: file.path, line: e.line, key: e.key,
                        "unknown setting; see `vmmanager meta-data` or docs/agent.md for the list")
                    if lenient {
                        problems.append(error)
                        continue
                    }
                    throw error
                }
                values[e.key] = (e.value, .file(path: file.path, line: e.line))
            }
        }
        if let file { try apply(file.entries(of: "global"), in: file) }

        // Which [guest NAME] section applies: the domain name, else the name inside the XML.
        var vmDir = parameters["vm_dir"] ?? values["vm_dir"]!.value
        var name = parameters["domain"]
        if name == nil, let config = parameters["config"] {
            name = try? DomainDefinition(xml: readFile(absolute(config, in: vmDir)) ?? "").name
        }
        if let file, let name {
            try apply(file.entries(ofGuest: name), in: file)
            vmDir = parameters["vm_dir"] ?? values["vm_dir"]!.value
        }
        for (key, value) in parameters where key != "conf_file" {
            // Unknown OCF parameters are ignored (Pacemaker may pass meta attributes); known ones win.
            if allowed.contains(key) { values[key] = (value, .parameter(parameterPrefix + key)) }
        }
        values["conf_file"] = (
            filePath, explicitFile == nil ? .defaultValue : .parameter(parameterPrefix + "conf_file")
        )

        let reader = Reader(values: values, file: file, lenient: lenient)
        let configPath = values["config"].map { absolute($0.value, in: vmDir) }
        let definition = configPath.flatMap { readFile($0) }.flatMap { try? DomainDefinition(xml: $0) }
        if name == nil { name = definition?.name }
        // A libvirt LXC container (`<domain type='lxc'>`, or an lxc:// hypervisor URI when no XML is given).
        let isContainer =
            definition.map(\.isContainer)
            ?? (values["hypervisor"].map { Hypervisor.servesContainers($0.value) } == true)
        let forceStop = try reader.read(["force_stop"]) { () throws(ConfigError) in try reader.bool("force_stop") }
        let methods = try reader.read(["stop_methods"]) { () throws(ConfigError) -> [StopMethod] in
            let methods =
                forceStop
                ? [StopMethod.destroy]
                : try reader.list("stop_methods").map { (m) throws(ConfigError) in
                    guard let method = StopMethod(rawValue: m) else {
                        throw reader.invalid(
                            "stop_methods",
                            "unknown method '\(ConfigError.excerpt(m))'; use save, shutdown "
                                + "and destroy")
                    }
                    return method
                }
            if methods.isEmpty { throw reader.invalid("stop_methods", "needs at least one method") }
            if isContainer {
                // libvirt's LXC driver has no managed save: the default chain of a container is shutdown, destroy,
                // and a chain that asks for save is refused rather than silently shortened.
                if reader.isDefault("stop_methods") { return methods.filter { $0 != .save } }
                if methods.contains(.save) {
                    throw reader.invalid(
                        "stop_methods",
                        "guest \(name ?? "-") is a container (libvirt LXC), which has no managed save: "
                            + "'save' cannot be in its stop chain; use shutdown,destroy")
                }
            }
            return methods
        }
        let savedState = try reader.read(["saved_state", "snapshot"]) { () throws(ConfigError) -> SavedStateSetting in
            let snapshot = reader.string("snapshot")
            if forceStop && snapshot != nil {
                throw reader.invalid("force_stop", "force_stop and snapshot contradict each other (destroy or save?)")
            }
            guard var savedState = SavedStateSetting.parse(reader.string("saved_state") ?? "auto") else {
                throw reader.invalid(
                    "saved_state",
                    "use auto (beside the domain XML), managed (libvirt's node-local "
                        + "managed save) or an absolute directory")
            }
            if let snapshot {
                guard snapshot.hasPrefix("/") else {
                    throw reader.invalid("snapshot", "expected an absolute directory")
                }
                if case .directory(let d) = savedState, d != snapshot {
                    throw reader.invalid(
                        "snapshot", "contradicts saved_state=\(ConfigError.excerpt(d)); set one of them")
                }
                if savedState == .managed {
                    throw reader.invalid("snapshot", "contradicts saved_state=managed; set one of them")
                }
                savedState = .directory(snapshot)
            }
            return savedState
        }
        let modes = try reader.read(["shutdown_mode"]) { () throws(ConfigError) -> ShutdownModes in
            var modes: ShutdownModes = []
            for m in reader.list("shutdown_mode") {
                switch m {
                case "acpi": modes.insert(.acpiPowerButton)
                case "agent": modes.insert(.guestAgent)
                case "initctl": modes.insert(.initctl)
                case "signal": modes.insert(.signal)
                case "paravirt": modes.insert(.paravirt)
                default:
                    throw reader.invalid(
                        "shutdown_mode",
                        "unknown mode '\(ConfigError.excerpt(m))'; use acpi, agent, "
                            + "initctl, signal, paravirt")
                }
            }
            return modes
        }
        let readiness = try reader.read(["readiness"]) { () throws(ConfigError) -> ReadinessSetting in
            let readiness: ReadinessSetting
            do {
                readiness = try ReadinessSetting.parse(
                    reader.string("readiness") ?? "auto",
                    scripts: MonitorScripts.parse(reader.string("monitor_scripts") ?? ""))
            } catch {
                throw reader.invalid("readiness", (error as? ReadinessSetting.ParseError)?.message ?? "\(error)")
            }
            if case .probe(.command) = readiness, !isContainer {
                throw reader.invalid(
                    "readiness",
                    "exec: runs a command inside a container (libvirt LXC); guest \(name ?? "-") is a VM: "
                        + "use guest-agent, tcp:HOST:PORT, serial:REGEX or monitor-scripts")
            }
            return readiness
        }
        var settings = GuestSettings(
            values: values, file: file, domainName: name, configPath: configPath,
            hypervisor: reader.string("hypervisor") ?? "qemu:///system",
            stopMethods: methods, shutdownModes: modes, savedState: savedState,
            saveConfigOnStop: try reader.read(["save_config_on_stop", "sync_config_on_stop"]) {
                () throws(ConfigError) in
                // VirtualDomain: sync_config_on_stop implies save_config_on_stop.
                let save = try reader.bool("save_config_on_stop")
                let sync = try reader.bool("sync_config_on_stop")
                return save || sync
            },
            readiness: readiness,
            monitorScripts: MonitorScripts.parse(reader.string("monitor_scripts") ?? ""),
            startTimeout: .seconds(
                try reader.read(["start_timeout"]) { () throws(ConfigError) in
                    try reader.positiveInt("start_timeout")
                }),
            stopTimeout: .seconds(
                try reader.read(["stop_timeout"]) { () throws(ConfigError) in
                    try reader.positiveInt("stop_timeout")
                }),
            peers: reader.list("peers"),
            migration: MigrationSettings(
                transport: reader.string("migration_transport"), user: reader.string("migration_user"),
                networkSuffix: reader.string("migration_network_suffix"),
                migrateURI: reader.string("migrateuri"), remoteURI: reader.string("remoteuri"),
                downtimeMilliseconds: try reader.read(["migration_downtime"]) { () throws(ConfigError) in
                    try reader.nonNegativeInt("migration_downtime")
                },
                speedMiBPerSecond: try reader.read(["migration_speed"]) { () throws(ConfigError) in
                    try reader.nonNegativeInt("migration_speed")
                },
                port: try reader.read(["migrateport"]) { () throws(ConfigError) -> Int? in
                    guard reader.string("migrateport") != nil else { return nil }
                    let port = try reader.positiveInt("migrateport")
                    guard port <= 65535 else { throw reader.invalid("migrateport", "expected a TCP port, 1…65535") }
                    return port
                },
                options: try reader.read(["migrate_options"]) { () throws(ConfigError) in
                    do throws(ConfigError) {
                        return try MigrateOptions.parse(reader.string("migrate_options") ?? "")
                    } catch { throw reader.invalid("migrate_options", error.message) }
                }),
            managedSaveDirectory: try reader.read(["managed_save_dir"]) { () throws(ConfigError) in
                try reader.directory("managed_save_dir")
            },
            quarantineDirectory: try reader.read(["quarantine_dir"]) { () throws(ConfigError) in
                try reader.directory("quarantine_dir")
            },
            stateDirectory: try reader.read(["state_dir"]) { () throws(ConfigError) in try reader.directory("state_dir")
            },
            lockDirectory: try reader.read(["lock_dir"]) { () throws(ConfigError) in try reader.directory("lock_dir") })
        settings.isContainer = isContainer
        settings.syncConfigOnStop = try reader.read(["sync_config_on_stop"]) { () throws(ConfigError) in
            try reader.bool("sync_config_on_stop")
        }
        settings.startResources = try reader.read(["start_resources"]) { () throws(ConfigError) in
            try reader.bool("start_resources")
        }
        for attribute in ["cpu", "host_memory", "hv_memory"] {
            let set = try reader.read(["autoset_utilization_\(attribute)"]) { () throws(ConfigError) in
                try reader.bool("autoset_utilization_\(attribute)")
            }
            let unset = try reader.read(["unset_utilization_\(attribute)"]) { () throws(ConfigError) in
                try reader.bool("unset_utilization_\(attribute)")
            }
            if set { settings.utilization[attribute] = true } else if unset { settings.utilization[attribute] = false }
        }
        var limits = Admission.Limits.defaults()
        for kind in Admission.Kind.allCases {
            let key = "\(kind)_slots"
            let count = try reader.read([key]) { () throws(ConfigError) -> Int? in
                guard let value = reader.string(key), value != "auto" else { return nil }
                guard let count = Int(value), count > 0 else {
                    throw reader.invalid(key, "expected auto or a whole number above 0")
                }
                return count
            }
            if let count { limits[kind] = count }
        }
        settings.admissionLimits = limits
        settings.priority = try reader.read(["priority"]) { () throws(ConfigError) -> Int in
            if let value = reader.string("priority") {
                guard let priority = Int(value) else { throw reader.invalid("priority", "expected a whole number") }
                return priority
            }
            // Pacemaker passes the resource's meta attributes as OCF_RESKEY_CRM_meta_*.
            return parameters["CRM_meta_priority"].flatMap { Int($0) } ?? 0
        }
        settings.failureResponse = try reader.read([
            "failure_response", "local_restarts", "restart_window",
            "handover_command",
        ]) { () throws(ConfigError) -> FailureResponse.Policy in
            switch reader.string("failure_response") ?? "none" {
            case "none": return .none
            case "pacemaker": return .pacemaker
            case "restart":
                return .restart(
                    localRestarts: try reader.nonNegativeInt("local_restarts"),
                    window: .seconds(try reader.positiveInt("restart_window")),
                    handoverCommand: reader.string("handover_command"))
            case let other:
                throw reader.invalid(
                    "failure_response",
                    "unknown response '\(ConfigError.excerpt(other))'; use none, "
                        + "pacemaker or restart")
            }
        }
        for (name, reason) in Parameters.refusedFromVirtualDomain {
            guard let value = reader.string(name), !["", "0", "false", "no", "off"].contains(value.lowercased()) else {
                continue
            }
            settings.refused.append("\(name) is set but not supported: \(reason)")
        }
        settings.problems = problems + reader.problems
        return settings
    }

    /// A value as text, for keys this type does not interpret (the notifier's).
    public func value(_ key: String) -> String? { values[key]?.value }
}

/// How a migration reaches its target (VirtualDomain's parameters).
public struct MigrationSettings: Sendable, Hashable {
    public let transport: String?
    public let user: String?
    public let networkSuffix: String?
    public let migrateURI: String?
    public let remoteURI: String?
    public let downtimeMilliseconds: Int
    public let speedMiBPerSecond: Int
    /// `migrateport`: the port of the data URI when it names none.
    public var port: Int? = nil
    /// `migrate_options`, understood.
    public var options = MigrateOptions()

    /// The libvirt URI of `target` as VirtualDomain builds it: `remoteuri` with %n replaced, else the
    /// local hypervisor URI with the target's host: `qemu+ssh://[user@]target<suffix>/system`.
    public func remoteURI(for target: String, hypervisor: String) -> String {
        if let remoteURI { return remoteURI.replacing("%n", with: target) }
        let scheme0: Substring = hypervisor.split(separator: ":").first ?? "qemu"
        let driver = String(scheme0.split(separator: "+").first ?? scheme0)
        let pieces = hypervisor.split(separator: "/", omittingEmptySubsequences: true)
        let path = pieces.count >= 2 ? String(pieces[pieces.count - 1]) : "system"
        let scheme = transport.map { "\(driver)+\($0)" } ?? driver
        let userPart = user.map { "\($0)@" } ?? ""
        return "\(scheme)://\(userPart)\(Self.withSuffix(target, networkSuffix))/\(path)"
    }

    /// The data URI, in VirtualDomain's order: `migrateuri`, else `--migrateuri` of `migrate_options` (both
    /// with %n replaced), else `tcp:<target><suffix>` when a suffix is set, else nil (libvirt uses the
    /// target's host name). `migrateport` is added to a `tcp:` URI that names no port (and makes
    /// `tcp:<target>:<port>` when there is no URI at all).
    public func dataURI(for target: String) -> String? {
        var uri: String? = nil
        if let migrateURI {
            uri = migrateURI.replacing("%n", with: target)
        } else if let given = options.migrateURI {
            uri = given.replacing("%n", with: target)
        } else if let networkSuffix {
            uri = "tcp:\(Self.withSuffix(target, networkSuffix))"
        }
        guard let port else { return uri }
        guard let current = uri else { return "tcp:\(target):\(port)" }
        guard current.hasPrefix("tcp:") else { return current }
        var host = current.dropFirst("tcp:".count)
        if host.hasPrefix("//") { host = host.dropFirst(2) }
        if host.hasSuffix("/") { host = host.dropLast() }
        let hasPort = host.hasPrefix("[") ? host.contains("]:") : host.contains(":")
        return hasPort ? current : "tcp:\(host):\(port)"
    }

    /// VirtualDomain's rule for an FQDN: the suffix goes after the first label (`bar.example.org` with
    /// `-mig` is `bar-mig.example.org`).
    static func withSuffix(_ target: String, _ suffix: String?) -> String {
        guard let suffix, !suffix.isEmpty else { return target }
        guard let dot = target.firstIndex(of: ".") else { return target + suffix }
        return String(target[..<dot]) + suffix + String(target[dot...])
    }
}

/// Reads typed values out of the resolved table, with errors that name where a value came from.
/// A class: ``read(_:_:)`` replaces a wrong value by its default in place, leniently.
private final class Reader {
    var values: [String: (value: String, source: GuestSettings.Source)]
    let file: ConfigFile?
    let lenient: Bool
    var problems: [ConfigError] = []

    init(values: [String: (value: String, source: GuestSettings.Source)], file: ConfigFile?, lenient: Bool) {
        self.values = values
        self.file = file
        self.lenient = lenient
    }

    /// Reads with `body`. Leniently, a wrong value is recorded in ``problems`` and `keys` are read again
    /// with their defaults.
    func read<T>(_ keys: [String], _ body: () throws(ConfigError) -> T) throws(ConfigError) -> T {
        do { return try body() } catch {
            guard lenient else { throw error }
            problems.append(error)
            for key in keys {
                let fallback = Parameters.named(key)?.defaultValue ?? ""
                values[key] = fallback.isEmpty ? nil : (fallback, .defaultValue)
            }
            return try body()
        }
    }

    /// Whether `key` has its built-in default (no file, no parameter set it).
    func isDefault(_ key: String) -> Bool { values[key]?.source == .defaultValue }

    func string(_ key: String) -> String? {
        guard let v = values[key]?.value, !v.isEmpty else { return nil }
        return v
    }

    func list(_ key: String) -> [String] {
        (string(key) ?? "").split(separator: ",").map { $0.trimmed }.filter { !$0.isEmpty }
    }

    func bool(_ key: String) throws(ConfigError) -> Bool {
        switch (string(key) ?? "false").lowercased() {
        case "1", "yes", "true", "on", "y": return true
        case "0", "no", "false", "off", "n": return false
        default: throw invalid(key, "expected yes or no (true/false, 1/0)")
        }
    }

    func positiveInt(_ key: String) throws(ConfigError) -> Int {
        guard let v = Int(string(key) ?? ""), v > 0 else { throw invalid(key, "expected a whole number above 0") }
        return v
    }

    /// A directory setting: empty means the table's default (an unset value must not break a stop), a
    /// relative path is an error (it would depend on the cluster manager's working directory).
    func directory(_ key: String) throws(ConfigError) -> String {
        let value = string(key) ?? Parameters.named(key)?.defaultValue ?? ""
        guard value.hasPrefix("/") else { throw invalid(key, "expected an absolute directory") }
        return value.count > 1 && value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    func nonNegativeInt(_ key: String) throws(ConfigError) -> Int {
        guard let s = string(key) else { return 0 }
        guard let v = Int(s), v >= 0 else { throw invalid(key, "expected a whole number, 0 or more") }
        return v
    }

    func invalid(_ key: String, _ why: String) -> ConfigError {
        let shown = ConfigError.excerpt(values[key]?.value ?? "")
        switch values[key]?.source {
        case .file(let path, let line)?:
            return ConfigError(.invalidValue, file: path, line: line, key: key, "'\(shown)': \(why)")
        case .parameter(let name)?:
            return ConfigError(.invalidValue, file: nil, line: nil, key: name, "'\(shown)': \(why)")
        default:
            return ConfigError(.invalidValue, file: nil, line: nil, key: key, "'\(shown)': \(why)")
        }
    }
}

/// `path` made absolute against `directory`.
func absolute(_ path: String, in directory: String) -> String {
    path.hasPrefix("/") ? path : (directory.hasSuffix("/") ? directory : directory + "/") + path
}

/// The file's text, or nil when it cannot be read.
func readFile(_ path: String) -> String? {
    FileContents.read(path).map { String(decoding: $0, as: UTF8.self) }
}
