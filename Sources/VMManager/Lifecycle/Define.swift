import FoundationEssentials
import Libvirt

/// What ``Hypervisor/define(xml:pinIdentity:)`` did.
public struct DefineOutcome: Sendable {
    public let domain: Domain
    /// The definition as it was given to libvirt (pinned, when asked).
    public let definition: DomainDefinition
    /// What pinning added (empty when the XML already carried its identity, or pinning was not asked).
    public let identityChanges: [IdentityChange]
    /// True when a guest of that name was already defined and its definition was replaced.
    public let redefined: Bool
    /// True when the definition has a UUID and a MAC on every interface, so every node that defines
    /// it gets the same guest.
    public var identityIsPinned: Bool {
        definition.uuid != nil && definition.interfaces.allSatisfy { $0.mac != nil }
    }
}

extension Hypervisor {
    /// Defines a guest persistently from its XML, optionally pinning its identity first.
    ///
    /// Safety checks before libvirt sees it: the XML must parse; a guest of the same name must not
    /// already exist with another UUID; no MAC may already be used by another guest on this host
    /// (two guests with one MAC break each other's networking, and a copied XML is the usual cause).
    /// Never undefines anything.
    /// - Parameter pinIdentity: add a UUID derived from the name and MACs derived from the UUID where
    ///   the XML has none (``StableIdentity``), so every node defines the same identity.
    public func define(xml: String, pinIdentity: Bool) async throws -> DefineOutcome {
        var definition: DomainDefinition
        do { definition = try DomainDefinition(xml: xml) } catch {
            throw VMError(.invalidInput, "cannot define guest: \(error)")
        }
        var changes: [IdentityChange] = []
        if pinIdentity {
            let pinned = StableIdentity.pin(definition)
            definition = pinned.definition
            changes = pinned.changes
        }
        let name = definition.name
        let existing = try await libvirt("looking up guest \(name)") { try await connection.domainIfExists(name: name) }
        if let existing, let uuid = definition.uuid, existing.uuid != uuid {
            throw VMError(
                .refused,
                "guest \(name) is already defined with UUID \(existing.uuid.lowercasedString), "
                    + "the XML says \(uuid.lowercasedString); refusing to replace one guest by another "
                    + "(undefine the old one first if that is what you want)")
        }
        let others = try await otherDefinitions(excluding: name)
        let conflicts = StableIdentity.macConflicts(of: definition, among: others)
        if !conflicts.isEmpty {
            throw VMError(
                .refused,
                "cannot define guest \(name): "
                    + conflicts.map(\.description).joined(separator: "; "))
        }
        let xml = definition.xml
        let domain = try await libvirt("defining guest \(name)") { try await connection.defineDomain(xml: xml) }
        logger.info(
            "guest defined",
            metadata: [
                "domain.name": "\(name)", "domain.uuid": "\(domain.uuid.lowercasedString)",
                "identity.changes": "\(changes.count)", "redefined": "\(existing != nil)",
            ])
        return DefineOutcome(
            domain: domain, definition: definition, identityChanges: changes,
            redefined: existing != nil)
    }

    /// The inactive definitions of every other guest on this host (unparsable ones are skipped).
    func otherDefinitions(excluding name: String) async throws -> [DomainDefinition] {
        let domains = try await libvirt("listing guests") { try await connection.domains() }
        var result: [DomainDefinition] = []
        for d in domains where d.name != name {
            guard let xml = try? await d.xml(.inactive), let def = try? DomainDefinition(xml: xml) else { continue }
            result.append(def)
        }
        return result
    }
}

extension UUID {
    /// The lower-case form libvirt prints.
    public var lowercasedString: String { uuidString.lowercased() }
}
