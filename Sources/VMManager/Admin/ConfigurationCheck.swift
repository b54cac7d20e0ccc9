import FoundationEssentials
import Libvirt
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One result of ``ConfigurationCheck``.
public struct CheckFinding: Sendable, Hashable, Codable {
    public enum Level: String, Sendable, Hashable, Codable, Comparable {
        case ok = "OK"
        case warning = "WARN"
        case failure = "FAIL"

        private var rank: Int { self == .ok ? 0 : self == .warning ? 1 : 2 }
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rank < rhs.rank }
    }

    public let level: Level
    /// What the finding is about: `config`, a guest name, or `peer <uri>`.
    public let subject: String
    public let message: String

    public init(_ level: Level, _ subject: String, _ message: String) {
        self.level = level
        self.subject = subject
        self.message = message
    }
}

/// `vmctl check`: validates the configuration and every managed guest the way the agent would meet them at
/// the next start — before a failover finds the problem.
///
/// Guests checked: every `[guest NAME]` section of the configuration file and every guest defined on the host.
/// For each: its settings resolve; its XML file (`config`) exists, parses and names the guest; its identity is
/// pinned (the UUID and MACs defined here are the ones any node derives from the XML); the peers (`peers`)
/// hold the same UUID and MACs for it (asked read-only, within ``peerTimeout``; an unreachable peer is a
/// warning); no other guest here uses one of its MACs; its file and block disks exist; and the guest agent
/// channel (or a file serial console) is there when its readiness policy or shutdown mode needs it.
public struct ConfigurationCheck: Sendable {
    /// The configuration file named by the admin, or nil for the default (a missing default file is fine).
    public let configFile: String?
    public let peerTimeout: Duration
    public let logger: Logger

    public init(
        configFile: String?, peerTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "vmmanager", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configFile = configFile
        self.peerTimeout = peerTimeout
        self.logger = logger
    }

    /// Runs every check. `host` is the local libvirt; nil when it could not be reached (the caller reports
    /// that), in which case only the configuration and the XML files are checked.
    public func run(host: Hypervisor?) async -> [CheckFinding] {
        var findings: [CheckFinding] = []
        let baseParameters = configFile.map { ["conf_file": $0] } ?? [:]
        let path = configFile ?? Parameters.named("conf_file")!.defaultValue

        // The file itself, then [global].
        var file: ConfigFile?
        var fileIsBroken = false
        do {
            file = try ConfigFile.load(path)
            findings.append(CheckFinding(.ok, "config", "\(path) parses (\(file!.guests.count) [guest] section(s))"))
        } catch  where error.kind == .notFound && configFile == nil {
            findings.append(CheckFinding(.ok, "config", "no \(path); every guest uses the defaults"))
        } catch {
            findings.append(CheckFinding(.failure, "config", "\(error)"))
            fileIsBroken = true
        }
        if !fileIsBroken {
            do { _ = try GuestSettings.resolve(parameters: baseParameters) } catch {
                findings.append(CheckFinding(.failure, "config", "[global]: \(error)"))
                fileIsBroken = true
            }
        }

        // Every guest: the file's sections and the host's definitions.
        var hostDefinitions: [String: DomainDefinition] = [:]
        if let host {
            do {
                for d in try await host.connection.domains() {
                    do { hostDefinitions[d.name] = try DomainDefinition(xml: try await d.xml(.inactive)) } catch {
                        findings.append(CheckFinding(.failure, d.name, "libvirt's definition cannot be read: \(error)"))
                    }
                }
            } catch {
                findings.append(
                    CheckFinding(
                        .failure, "libvirt",
                        "cannot list the guests on \(host.connection.uri): "
                            + "\(error)"))
            }
        }
        let names = Set(file?.guests ?? []).union(hostDefinitions.keys).sorted()
        var peers = PeerConnections(timeout: peerTimeout)
        for name in names {
            findings += await check(
                guest: name, hasSection: file?.guests.contains(name) ?? false,
                parameters: baseParameters, fileIsBroken: fileIsBroken,
                defined: hostDefinitions[name], allDefined: hostDefinitions, host: host,
                peers: &peers)
        }
        findings += peers.unreachableFindings
        return findings
    }

    private func check(
        guest name: String, hasSection: Bool, parameters: [String: String], fileIsBroken: Bool,
        defined: DomainDefinition?, allDefined: [String: DomainDefinition], host: Hypervisor?,
        peers: inout PeerConnections
    ) async -> [CheckFinding] {
        var out: [CheckFinding] = []
        func add(_ level: CheckFinding.Level, _ message: String) { out.append(CheckFinding(level, name, message)) }

        // Settings as the agent resolves them for this guest.
        var params = parameters
        params["domain"] = name
        let settings: GuestSettings
        do { settings = try GuestSettings.resolve(parameters: params, ignoringConfigFile: fileIsBroken) } catch {
            add(.failure, "settings: \(error)")
            guard let fallback = try? GuestSettings.resolve(parameters: ["domain": name], ignoringConfigFile: true)
            else { return out }
            settings = fallback
        }

        // The XML file.
        var fromFile: DomainDefinition?
        if let path = settings.configPath {
            if let xml = readFile(path) {
                do {
                    let parsed = try DomainDefinition(xml: xml)
                    if parsed.name != name {
                        add(.failure, "\(path) defines guest '\(parsed.name)', not '\(name)'")
                    } else {
                        fromFile = parsed
                        add(.ok, "XML \(path) parses")
                    }
                } catch {
                    add(.failure, "XML \(path) does not parse: \(error)")
                }
            } else {
                add(.failure, "XML \(path) does not exist or cannot be read (start fails with 'not installed')")
            }
        } else if defined == nil, host != nil {
            add(.failure, "not defined on \(host!.connection.uri) and no 'config' XML to define it from")
        }
        if defined == nil, fromFile != nil, let host {
            add(.ok, "not defined on \(host.connection.uri) yet; start defines it from its XML")
        }

        // Identity: what is defined here against what any node derives from the XML.
        let expected: DomainDefinition? = defined ?? fromFile.map { StableIdentity.pin($0).definition }
        if let defined {
            let pinning = IdentityPinning(defined)
            if let fromFile {
                var xmlPinned = fromFile
                if fromFile.uuid == nil, let uuid = defined.uuid,
                    uuid != StableIdentity.uuid(forName: name)
                {
                    add(
                        .failure,
                        "identity not pinned: defined here with UUID \(uuid.lowercasedString), but its XML has "
                            + "no <uuid> and another node derives "
                            + "\(StableIdentity.uuid(forName: name).lowercasedString); "
                            + "write <uuid>\(uuid.lowercasedString)</uuid> into the XML")
                    xmlPinned = fromFile.settingUUID(uuid)
                } else if let a = fromFile.uuid, let b = defined.uuid, a != b {
                    add(
                        .failure,
                        "defined here with UUID \(b.lowercasedString) but its XML says \(a.lowercasedString); "
                            + "start will refuse to replace one guest by another")
                }
                xmlPinned = StableIdentity.pin(xmlPinned).definition
                var macProblems = 0
                for (index, interface) in defined.interfaces.enumerated() where index < xmlPinned.interfaces.count {
                    let want = xmlPinned.interfaces[index].mac
                    guard let have = interface.mac, let want, have != want else { continue }
                    macProblems += 1
                    if fromFile.interfaces[index].mac == nil {
                        add(
                            .failure,
                            "identity not pinned: interface \(index) is defined here with MAC \(have), but its "
                                + "XML has no <mac> and another node derives \(want); write <mac address='\(have)'/> "
                                + "into the XML")
                    } else {
                        add(
                            .warning,
                            "interface \(index) is defined here with MAC \(have) but its XML says \(want); "
                                + "the next start of the stopped guest redefines it from the XML")
                    }
                }
                if !out.contains(where: { $0.level == .failure && $0.message.contains("UUID") }) && macProblems == 0 {
                    add(
                        .ok,
                        "identity pinned (\(pinning)): uuid \(defined.uuid?.lowercasedString ?? "-"), "
                            + "\(defined.interfaces.count) MAC(s), matching its XML")
                }
            } else if pinning == .derived {
                add(.ok, "identity pinned (derived from the name): uuid \(defined.uuid?.lowercasedString ?? "-")")
            } else if settings.peers.isEmpty {
                add(
                    .warning,
                    "identity explicit (uuid \(defined.uuid?.lowercasedString ?? "-")) and kept only in "
                        + "libvirt's definition here, with no XML file and no peers to compare; make sure every node "
                        + "defines the same UUID and MACs")
            } else {
                add(
                    .ok,
                    "identity explicit (uuid \(defined.uuid?.lowercasedString ?? "-")); compared with the peers "
                        + "below")
            }
        } else if let fromFile {
            switch IdentityPinning(fromFile) {
            case .missing:
                add(
                    .ok,
                    "identity: its XML leaves the UUID or MACs out; vmmanager derives them from the "
                        + "name, the same on every node")
            case let p: add(.ok, "identity pinned in its XML (\(p))")
            }
        }

        // No other guest here may use one of its MACs.
        if let expected {
            let others = allDefined.filter { $0.key != name }.map(\.value)
            for conflict in StableIdentity.macConflicts(of: expected, among: others) {
                add(.failure, conflict.description)
            }
        }

        // The peers hold the same identity.
        if let expected, let uuid = expected.uuid {
            for peer in settings.peers {
                guard let connection = await peers.connection(peer) else { continue }
                out += await compare(name: name, expected: expected, uuid: uuid, peer: peer, on: connection)
            }
        }

        // Disks, and what the readiness policy needs.
        if let effective = fromFile ?? defined {
            out += disks(of: effective, guest: name)
            out += readinessNeeds(of: effective, settings: settings, guest: name)
        }
        out += await savedState(of: name, settings: settings, definition: fromFile ?? defined, host: host)
        return out
    }

    /// Where the guest's saved state lives and what the next start would do with each image.
    private func savedState(
        of name: String, settings: GuestSettings, definition: DomainDefinition?,
        host: Hypervisor?
    ) async -> [CheckFinding] {
        var out: [CheckFinding] = []
        func add(_ level: CheckFinding.Level, _ message: String) { out.append(CheckFinding(level, name, message)) }
        let controller = GuestController(settings: settings, reporter: CollectingReporter(), logger: Notifier.silent)
        // What validate-all refuses (VirtualDomain parameters not supported, programs missing) is a failure here too.
        for problem in controller.validationProblems() { add(.failure, problem.message) }
        if settings.isContainer {
            add(
                .ok,
                "saved state: none; a container (libvirt LXC) has no managed save or live migration: its stop "
                    + "shuts it down (\(settings.stopMethods.map(\.rawValue).joined(separator: ","))), a takeover "
                    + "starts it afresh")
            return out
        }
        let store = controller.savedStateStore(for: name)
        if store.kind == .directory {
            add(.ok, "saved state in \(store.directory)")
            // The directory must move with the guest: on a node-local one, a takeover cannot resume the guest
            // and only the disk check can catch an image older than a boot elsewhere.
            let firstDisk = GuestController.diskStamps(definition).first?.path
            if let firstDisk, let a = Self.device(of: store.directory), let b = Self.device(of: firstDisk), a != b {
                add(
                    .warning,
                    "saved state in \(store.directory) is on another filesystem than its disk \(firstDisk); "
                        + "put it on the storage that moves with the guest (saved_state=DIR), or a takeover "
                        + "cold-boots it"
                )
            }
        } else {
            add(.ok, "saved state: \(store.location); a takeover cold-boots this guest")
        }
        guard let host, let domain = try? await host.guestIfDefined(name) else { return out }
        let images: [(image: SavedImage, verdict: SavedImageVerdict)]
        do { images = try await controller.savedImages(of: domain) } catch {
            add(.failure, "saved images cannot be judged: \(error)")
            return out
        }
        let ours = GuestController.competing(images.map(\.image), in: store)
        if ours.count > 1 {
            add(
                .failure,
                "\(ours.count) saved images (two nodes ran it: split brain); start refuses until an admin "
                    + "chooses: `vmctl saved \(name)`, then `--keep PATH` or `--discard`")
        }
        for entry in images {
            switch entry.verdict {
            case .current:
                add(.ok, "saved image \(entry.image.summary): current, the next start restores it")
            case .stale(let why) where ours.count <= 1 || entry.image.isManagedSave:
                add(
                    .warning,
                    "saved image \(entry.image.summary) is stale: \(why); the next start moves it to "
                        + "\(settings.quarantineDirectory) and boots the guest")
            case .stale:
                break
            }
        }
        return out
    }

    static func device(of path: String) -> UInt64? {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_dev) : nil
    }

    private func compare(
        name: String, expected: DomainDefinition, uuid: UUID, peer: String,
        on connection: Connection
    ) async -> [CheckFinding] {
        let byUUID: Domain?
        let byName: Domain?
        do {
            byUUID = try await connection.domainIfExists(uuid: uuid)
            byName = try await connection.domainIfExists(name: name)
        } catch {
            return [CheckFinding(.warning, name, "peer \(peer): cannot look the guest up: \(error.message)")]
        }
        if let byUUID, byUUID.name != name {
            return [
                CheckFinding(
                    .failure, name,
                    "peer \(peer) has UUID \(uuid.lowercasedString) as another guest, "
                        + "'\(byUUID.name)'")
            ]
        }
        guard let there = byName else {
            return [CheckFinding(.ok, name, "not defined on peer \(peer) (its start there defines it)")]
        }
        guard let xml = try? await there.xml(.inactive), let definition = try? DomainDefinition(xml: xml) else {
            return [CheckFinding(.warning, name, "peer \(peer): its definition cannot be read")]
        }
        var problems: [String] = []
        if definition.uuid != uuid {
            problems.append("UUID \(definition.uuid?.lowercasedString ?? "none") there, \(uuid.lowercasedString) here")
        }
        let here = expected.interfaces.map(\.mac)
        let away = definition.interfaces.map(\.mac)
        for index in 0..<max(here.count, away.count) {
            let a = index < here.count ? here[index]?.description ?? "none" : "no interface"
            let b = index < away.count ? away[index]?.description ?? "none" : "no interface"
            if a != b { problems.append("interface \(index): MAC \(b) there, \(a) here") }
        }
        if problems.isEmpty {
            return [CheckFinding(.ok, name, "same UUID and MACs on peer \(peer)")]
        }
        return [CheckFinding(.failure, name, "identity differs on peer \(peer): " + problems.joined(separator: "; "))]
    }

    private func disks(of definition: DomainDefinition, guest: String) -> [CheckFinding] {
        var out: [CheckFinding] = []
        var checked = 0
        for disk in definition.disks {
            let label = disk.targetDevice ?? disk.device
            guard let source = disk.source else { continue }  // an empty cdrom drive
            switch disk.type {
            case "file":
                var st = stat()
                if stat(source, &st) != 0 {
                    out.append(
                        CheckFinding(
                            .failure, guest,
                            "disk \(label): \(source): "
                                + String(cString: strerror(errno))))
                } else {
                    checked += 1
                }
            case "block":
                var st = stat()
                if stat(source, &st) != 0 {
                    out.append(
                        CheckFinding(
                            .failure, guest,
                            "disk \(label): \(source): "
                                + String(cString: strerror(errno))))
                } else if (st.st_mode & S_IFMT) != S_IFBLK {
                    out.append(CheckFinding(.failure, guest, "disk \(label): \(source) is not a block device"))
                } else {
                    checked += 1
                }
            default:
                out.append(CheckFinding(.ok, guest, "disk \(label): \(disk.type) source \(source) not checked"))
            }
        }
        if checked > 0 {
            out.append(CheckFinding(.ok, guest, "\(checked) disk source(s) reachable"))
        }
        return out
    }

    private func readinessNeeds(
        of definition: DomainDefinition, settings: GuestSettings, guest: String
    )
        -> [CheckFinding]
    {
        var out: [CheckFinding] = []
        let channel = definition.hasGuestAgentChannel
        switch settings.readiness {
        case .auto:
            out.append(
                CheckFinding(
                    .ok, guest,
                    "readiness auto: "
                        + (channel
                            ? "waits for the guest agent (its channel is present)"
                            : "no guest agent channel, so a start does not wait")))
        case .probe(.guestAgent):
            out.append(
                channel
                    ? CheckFinding(.ok, guest, "readiness guest-agent: the agent channel is present")
                    : CheckFinding(
                        .failure, guest,
                        "readiness guest-agent needs the "
                            + "\(DomainDefinition.Channel.guestAgentName) channel, which its definition lacks"))
        case .probe(.serialLine(let pattern)):
            out.append(
                definition.serials.contains { $0.type == "file" && $0.sourcePath != nil }
                    ? CheckFinding(.ok, guest, "readiness serial:\(pattern): a file serial console is present")
                    : CheckFinding(
                        .failure, guest,
                        "readiness serial:\(pattern) needs a <serial type='file'>, which "
                            + "its definition lacks"))
        case .probe(let p):
            out.append(CheckFinding(.ok, guest, "readiness \(p)"))
        }
        if settings.shutdownModes.contains(.guestAgent) && !channel {
            out.append(
                CheckFinding(
                    .failure, guest,
                    "shutdown_mode agent needs the guest agent channel, which its "
                        + "definition lacks"))
        }
        return out
    }
}

/// Read-only connections to the peers, opened once each; an unreachable peer is reported once.
struct PeerConnections {
    let timeout: Duration
    private var open: [String: Connection] = [:]
    private var failed: [String: String] = [:]

    init(timeout: Duration) { self.timeout = timeout }

    mutating func connection(_ uri: String) async -> Connection? {
        if let c = open[uri] { return c }
        if failed[uri] != nil { return nil }
        let options = Connection.Options(readOnly: true, timeout: timeout, keepAlive: nil)
        do {
            let c = try await Connection.open(uri, options: options)
            open[uri] = c
            return c
        } catch {
            failed[uri] = error.message
            return nil
        }
    }

    var unreachableFindings: [CheckFinding] {
        failed.sorted { $0.key < $1.key }.map {
            CheckFinding(.warning, "peer \($0.key)", "unreachable, its guests were not compared: \($0.value)")
        }
    }
}
