import FoundationEssentials
import Libvirt

/// Whether a guest's identity (UUID and MAC addresses) is the same on every node that defines it.
///
/// - ``derived``: the UUID is ``StableIdentity/uuid(forName:)`` and every MAC is
///   ``StableIdentity/mac(for:interfaceIndex:)`` of it: every node computes the same values from the name alone.
/// - ``explicit``: a UUID and every MAC are present but at least one differs from the derived value. They were
///   written by an admin, or chosen at random by libvirt when the guest was defined without pinning; which of the
///   two only the XML file (or a peer) can tell — `vmctl check` compares them.
/// - ``missing``: the definition leaves a UUID or a MAC to libvirt. Only an XML file can be in this case: libvirt
///   fills both in when it defines a guest, so a defined guest is never `missing`.
public enum IdentityPinning: String, Sendable, Hashable, Codable, CustomStringConvertible {
    case derived, explicit, missing

    /// Classifies a definition.
    public init(_ definition: DomainDefinition) {
        guard let uuid = definition.uuid, definition.interfaces.allSatisfy({ $0.mac != nil }) else {
            self = .missing
            return
        }
        let derived =
            uuid == StableIdentity.uuid(forName: definition.name)
            && definition.interfaces.enumerated().allSatisfy { index, interface in
                interface.mac == StableIdentity.mac(for: uuid, interfaceIndex: index)
            }
        self = derived ? .derived : .explicit
    }

    public var description: String { rawValue }
}
