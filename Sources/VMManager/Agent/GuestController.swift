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

    public init(settings: GuestSettings, reporter: any TransitionReporter, logger: Logger,
                resourceInstance: String? = nil, pacemakerResource: String? = nil) {
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

    func connect(timeout: Duration, keepAlive: Bool = true) async throws -> Hypervisor {
        try await Hypervisor.connect(settings.hypervisor, timeout: min(.seconds(30), max(.seconds(2), timeout)),
                                     keepAlive: keepAlive, logger: logger)
    }

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
    func qemuProcess(_ name: String, uuid: UUID?) -> QEMUProcess {
        var uuid = uuid ?? memory.rememberedUUID(name)
        if uuid == nil, let definition = (try? definitionFromConfig()) ?? nil, definition.name == name {
            uuid = definition.uuid ?? StableIdentity.uuid(forName: name)
        }
        return QEMUProcess(guest: name, uuid: uuid, hypervisor: settings.hypervisor)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
