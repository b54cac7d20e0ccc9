import FoundationEssentials
import Libvirt
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The HA actions on one guest — start, stop, monitor, migrate — exactly as the resource agent runs
/// them. `vmctl` calls the same code, so what an admin does by hand is what the cluster would do.
public struct GuestController: Sendable {
    public let settings: GuestSettings
    public let reporter: any TransitionReporter
    public let logger: Logger
    /// The cluster's name for this resource (OCF_RESOURCE_INSTANCE), used to remember the domain name.
    public let resourceInstance: String?
    /// The resource's id when Pacemaker runs the agent (its CIB can be written: utilization).
    public let pacemakerResource: String?

    public init(
        settings: GuestSettings, reporter: any TransitionReporter, logger: Logger,
        resourceInstance: String? = nil, pacemakerResource: String? = nil
    ) {
        self.settings = settings
        self.reporter = reporter
        self.logger = logger
        self.resourceInstance = resourceInstance
        self.pacemakerResource = pacemakerResource
    }

    // MARK: - What the guest is

    /// The domain name: configured, read from the XML, or remembered from an earlier start of this
    /// resource (so stop and monitor stay exact when the XML becomes unreachable).
    public var domainName: String? { settings.domainName ?? memory.rememberedName }

    var memory: ResourceMemory {
        ResourceMemory(directory: settings.stateDirectory, instance: resourceInstance)
    }

    /// The resource name the heartbeat face remembers a guest under: `hb-` and its haresources argument
    /// (`web1`, `/srv/vm-alpha/web1/web1.xml`), each '/' made '_'.
    public static func heartbeatInstance(_ argument: String) -> String {
        "hb-" + String(argument.map { $0 == "/" ? "_" : $0 })
    }

    /// The node's admission slots as this guest queues for them (``Admission``).
    func admission(for name: String) -> Admission.Request {
        Admission.Request(
            admission: Admission(lockDirectory: settings.lockDirectory, limits: settings.admissionLimits),
            guest: name, priority: settings.priority)
    }

    /// The guest's definition from its XML file, pinned. nil when no `config` is set.
    /// - Throws: ``VMError`` `.notInstalled` when the file is missing, `.misconfigured` when it does not parse
    ///   or names another guest.
    public func definitionFromConfig() throws -> DomainDefinition? {
        guard let path = settings.configPath else { return nil }
        guard let xml = readFile(path) else {
            throw VMError(.notInstalled, "the domain XML \(path) does not exist or cannot be read")
        }
        let parsed: DomainDefinition
        do { parsed = try DomainDefinition(xml: xml) } catch {
            throw VMError(.misconfigured, "\(path): \(error)")
        }
        if let name = settings.domainName, name != parsed.name {
            throw VMError(.misconfigured, "\(path) defines guest '\(parsed.name)', not '\(name)'")
        }
        return parsed
    }

    /// The guest this resource manages: the domain named in its XML (`config`), else the configured `domain`, else
    /// (with `remembered`) the one an earlier start of this resource remembered. nil when none is known.
    /// - Parameters:
    ///   - strict: throw when the XML is missing, does not parse or names another guest (a start must not act on
    ///     a guest its XML does not name); otherwise fall back to the configured or remembered name, so that stop
    ///     and monitor stay exact when the XML becomes unreachable.
    ///   - remembered: fall back to the name remembered for this resource.
    public func managedGuest(strict: Bool = false, remembered: Bool = true) throws -> ManagedGuest? {
        let definition = strict ? try definitionFromConfig() : (try? definitionFromConfig()) ?? nil
        guard let name = definition?.name ?? (remembered ? domainName : settings.domainName) else { return nil }
        return ManagedGuest(name: name, definition: definition, definitionPath: definitionPath(of: name))
    }

    /// ``managedGuest(strict:remembered:)``, or a `.misconfigured` ``VMError`` when no guest is known.
    func requiredGuest(strict: Bool = false) throws -> ManagedGuest {
        guard let guest = try managedGuest(strict: strict) else {
            throw VMError(.misconfigured, "no guest to manage: set 'domain' or 'config'")
        }
        return guest
    }

    /// The domain XML of guest `name`: `config`, else the one the agent last started it from (so `vmctl`, given
    /// only a name, finds the guest's saved state where the agent keeps it).
    func definitionPath(of name: String) -> String? {
        settings.configPath ?? memory.rememberedConfig(name)
    }

    /// A connection to this node's libvirtd: the shared one inside ``SharedConnections/withShared(_:)``
    /// (`vmctl watch`'s monitors), else a new one, closed when the last reference goes.
    func connect(timeout: Duration, keepAlive: Bool = true) async throws -> Hypervisor {
        if let shared = SharedConnections.current {
            return try await shared.hypervisor(settings.hypervisor, timeout: timeout)
        }
        return try await Hypervisor.connect(
            settings.hypervisor, timeout: min(.seconds(30), max(.seconds(2), timeout)),
            keepAlive: keepAlive, logger: logger)
    }

    /// The flags of a cold boot: force-boot, so libvirt never restores an image vmmanager did not choose. A
    /// container has no saved images, and libvirt's LXC driver refuses the flag.
    var coldBootFlags: StartFlags { settings.isContainer ? [] : .forceBoot }

    /// Whether libvirt could have a domain called `name`: it names files after it (NAME_MAX bytes, no '/').
    static func canBeADomainName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 200 && !name.contains("/") && !name.contains(where: { $0.isNewline })
    }

    /// The guest this resource started here (remembered by resource instance), when it is not `name` and
    /// still runs: a resource that started a guest keeps meaning that guest.
    func startedGuestStillRunning(insteadOf name: String, timeout: Duration) async -> String? {
        guard let remembered = memory.rememberedName, remembered != name,
            let host = try? await connect(timeout: timeout, keepAlive: false),
            let domain = try? await host.guestIfDefined(remembered),
            (try? await domain.state().isActive) == true
        else { return nil }
        return remembered
    }

    /// The guest's QEMU process under this node's libvirtd, matched by name and, when known, UUID (given,
    /// from its XML, or the one vmmanager derives when the XML pins none).
    func guestProcess(_ name: String, uuid: UUID?) -> GuestProcess {
        var uuid = uuid ?? memory.rememberedUUID(name)
        if uuid == nil, let definition = (try? managedGuest())??.definition, definition.name == name {
            uuid = definition.uuid ?? StableIdentity.uuid(forName: name)
        }
        return GuestProcess(guest: name, uuid: uuid, hypervisor: settings.hypervisor)
    }
}

/// Which guest a resource manages, resolved once per action (``GuestController/managedGuest(strict:remembered:)``).
public struct ManagedGuest: Sendable {
    /// The libvirt domain name.
    public let name: String
    /// The guest's definition from its XML (`config`), when one is set and could be read.
    public let definition: DomainDefinition?
    /// The domain XML: `config`, else the one the agent last started the guest from.
    public let definitionPath: String?
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
