#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import Libvirt

/// Gives a guest the same UUID and MAC addresses on every node: the libvirt counterpart of VMware's
/// `uuid.action = "keep"`.
///
/// libvirt invents a random `<uuid>` and random `<mac address>` for every definition that lacks them. When each node
/// of a cluster defines the guest from the same XML, each node would then hold a different identity for it: the
/// guest's DHCP lease, its licence keys bound to the SMBIOS UUID, and the switches' MAC tables would all change on
/// failover. Pinning fills in what is missing with values derived from the name alone, so every node computes the
/// same bytes without talking to the others, and values an operator wrote are never touched.
public enum StableIdentity {
    /// The namespace of vmmanager's name-based UUIDs: `1e02a82c-684f-4820-81bd-8af9ecadb933`.
    ///
    /// Generated once at random (UUIDv4) for vmmanager. It is fixed forever: changing it changes the UUID and MAC
    /// addresses of every guest whose definition was pinned, which is exactly the failover breakage pinning exists
    /// to prevent.
    public static let namespace = UUID(
        uuid: (0x1E, 0x02, 0xA8, 0x2C, 0x68, 0x4F, 0x48, 0x20, 0x81, 0xBD, 0x8A, 0xF9, 0xEC, 0xAD, 0xB9, 0x33)
    )

    /// The name-based UUID of a domain: RFC 9562 version 5 (SHA-1) of the name's UTF-8 bytes in ``namespace``.
    ///
    /// Equal to Python's `uuid.uuid5(uuid.UUID("1e02a82c-684f-4820-81bd-8af9ecadb933"), name)`. The bytes are taken as
    /// written, without Unicode normalisation, as libvirt compares names.
    public static func uuid(forName name: String) -> UUID {
        var bytes = Array(SHA1.hash(namespace.bytes + Array(name.utf8)).prefix(16))
        bytes[6] = bytes[6] & 0x0F | 0x50  // version 5
        bytes[8] = bytes[8] & 0x3F | 0x80  // variant 10xx (RFC 9562)
        return UUID(bytes: bytes)
    }

    /// The MAC address vmmanager gives the interface at `interfaceIndex` of the domain with `uuid`.
    ///
    /// The address is `52:54:00:xx:yy:zz` (the prefix QEMU and libvirt use for guests; locally administered) where
    /// `xx:yy:zz` are the first three bytes of SHA-1 over the 16 UUID bytes followed by the index as a 32-bit
    /// big-endian integer. Should that equal the address of a lower index, a 32-bit big-endian attempt counter
    /// (1, 2, ...) is appended until it does not, so the addresses of one domain are always distinct.
    ///
    /// - Parameters:
    ///   - uuid: The domain's UUID.
    ///   - interfaceIndex: The interface's position among the domain's `<interface>` elements; not negative.
    public static func mac(for uuid: UUID, interfaceIndex: Int) -> MACAddress {
        precondition(interfaceIndex >= 0, "an interface index is not negative")
        var generator = MACGenerator(uuid: uuid, reserved: [])
        for index in 0..<interfaceIndex {
            _ = generator.next(for: index)
        }
        return generator.next(for: interfaceIndex)
    }

    /// Fills in a missing `<uuid>` and missing `<mac>` elements; present values are never changed.
    ///
    /// The UUID is ``uuid(forName:)``; the MAC of interface `i` is ``mac(for:interfaceIndex:)`` with the domain's UUID
    /// (the one it already had, or the one just added). In the one-in-millions case where that address is already
    /// written on another interface of the definition, the next attempt is taken so pinning never creates a
    /// duplicate. The result depends only on the XML, so every node pins a definition to the same bytes.
    public static func pin(_ definition: DomainDefinition) -> PinnedDefinition {
        var pinned = definition
        var changes: [IdentityChange] = []
        let uuid: UUID
        if let existing = definition.uuid {
            uuid = existing
        } else {
            uuid = self.uuid(forName: definition.name)
            pinned = pinned.settingUUID(uuid)
            changes.append(.addedUUID(uuid))
        }
        var generator = MACGenerator(uuid: uuid, reserved: Set(definition.interfaces.compactMap(\.mac)))
        for (index, interface) in definition.interfaces.enumerated() {
            // Every index draws from the generator, so interface 2 gets the same address whether or not 0 and 1
            // had theirs written already.
            let mac = generator.next(for: index)
            guard interface.mac == nil else { continue }
            do {
                pinned = try pinned.settingMAC(mac, forInterfaceAt: index)
            } catch {
                preconditionFailure("interface \(index) of '\(definition.name)' vanished while pinning: \(error)")
            }
            changes.append(.addedMAC(interfaceIndex: index, mac))
        }
        return PinnedDefinition(definition: pinned, changes: changes)
    }

    /// MAC addresses of `definition` that another domain also uses, or that the definition uses twice.
    ///
    /// A definition in `others` counts as the same domain, and is skipped, when both have a UUID and the UUIDs are
    /// equal, or otherwise when the names are equal; so `others` may be every definition known in the cluster,
    /// including this domain's own copies on other nodes. Interfaces without a `<mac>` are not checked: pin first.
    ///
    /// - Returns: One conflict per pair of interfaces, duplicates removed, in interface order of `definition`.
    public static func macConflicts(
        of definition: DomainDefinition, among others: [DomainDefinition]
    )
        -> [MACConflict]
    {
        var conflicts: [MACConflict] = []
        func add(_ conflict: MACConflict) {
            if !conflicts.contains(conflict) {
                conflicts.append(conflict)
            }
        }
        let macs = definition.interfaces.map(\.mac)
        for (index, mac) in macs.enumerated() {
            guard let mac else { continue }
            if let earlier = macs[..<index].firstIndex(of: mac) {
                add(
                    MACConflict(
                        mac: mac, domain: definition.name, interfaceIndex: index,
                        otherDomain: definition.name, otherInterfaceIndex: earlier, isWithinDefinition: true
                    )
                )
            }
            for other in others where !isSameDomain(definition, other) {
                for (otherIndex, otherInterface) in other.interfaces.enumerated() where otherInterface.mac == mac {
                    add(
                        MACConflict(
                            mac: mac, domain: definition.name, interfaceIndex: index,
                            otherDomain: other.name, otherInterfaceIndex: otherIndex, isWithinDefinition: false
                        )
                    )
                }
            }
        }
        return conflicts
    }

    private static func isSameDomain(_ lhs: DomainDefinition, _ rhs: DomainDefinition) -> Bool {
        if let left = lhs.uuid, let right = rhs.uuid {
            return left == right
        }
        return lhs.name == rhs.name
    }
}

/// A definition after ``StableIdentity/pin(_:)``, with what was added.
public struct PinnedDefinition: Sendable, Equatable {
    /// The definition to hand to `virDomainDefineXML` on every node.
    public let definition: DomainDefinition
    /// What pinning added, UUID first, then MACs by interface index.
    public let changes: [IdentityChange]

    /// Whether the definition already had its UUID and all its MACs, so it can be defined as it was given.
    public var isUnchanged: Bool {
        changes.isEmpty
    }
}

/// One value ``StableIdentity/pin(_:)`` wrote into a definition.
public enum IdentityChange: Sendable, Equatable, CustomStringConvertible {
    /// `<uuid>` was missing and was set to the name-based UUID.
    case addedUUID(UUID)
    /// The interface at the index had no `<mac>` and was given this address.
    case addedMAC(interfaceIndex: Int, MACAddress)

    public var description: String {
        switch self {
        case .addedUUID(let uuid):
            "added <uuid>\(uuid.uuidString.lowercased())</uuid>, derived from the domain name"
        case .addedMAC(let index, let mac):
            "added <mac address='\(mac)'/> to the interface at index \(index), derived from the domain UUID"
        }
    }
}

/// A MAC address that two interfaces would both use. Two guests on one segment with the same address steal each
/// other's traffic; the switch cannot tell them apart.
public struct MACConflict: Sendable, Equatable, CustomStringConvertible {
    /// The address used twice.
    public let mac: MACAddress
    /// The name of the domain that was checked.
    public let domain: String
    /// The interface of the checked domain that uses ``mac``.
    public let interfaceIndex: Int
    /// The name of the domain that also uses ``mac``; the checked domain itself when ``isWithinDefinition``.
    public let otherDomain: String
    /// The interface of ``otherDomain`` that uses ``mac``.
    public let otherInterfaceIndex: Int
    /// Whether both interfaces belong to the checked definition.
    public let isWithinDefinition: Bool

    public var description: String {
        if isWithinDefinition {
            return "MAC address \(mac) is used by interfaces \(otherInterfaceIndex) and \(interfaceIndex) of domain "
                + "'\(domain)'; remove one of the <mac> elements so vmmanager derives a distinct address, "
                + "or write a different one"
        }
        return "MAC address \(mac) of interface \(interfaceIndex) of domain '\(domain)' is also used by interface "
            + "\(otherInterfaceIndex) of domain '\(otherDomain)'; remove the <mac> element from one of the two "
            + "definitions so vmmanager derives a distinct address, or write a different one"
    }
}

/// Hands out the MAC addresses of one domain in interface order, skipping any address already handed out or
/// reserved, as ``StableIdentity/mac(for:interfaceIndex:)`` documents.
private struct MACGenerator {
    private let uuidBytes: [UInt8]
    private var used: Set<MACAddress>

    init(uuid: UUID, reserved: Set<MACAddress>) {
        uuidBytes = uuid.bytes
        used = reserved
    }

    mutating func next(for index: Int) -> MACAddress {
        var attempt: UInt32 = 0
        while true {
            var input = uuidBytes + UInt32(truncatingIfNeeded: index).bigEndianBytes
            if attempt > 0 {
                input += attempt.bigEndianBytes
            }
            let digest = SHA1.hash(input)
            guard let mac = MACAddress(bytes: [0x52, 0x54, 0x00, digest[0], digest[1], digest[2]]) else {
                preconditionFailure("six bytes always make a MAC address")
            }
            if used.insert(mac).inserted {
                return mac
            }
            attempt += 1
        }
    }
}

extension UUID {
    /// The 16 bytes in network order, as RFC 9562 hashes them.
    fileprivate var bytes: [UInt8] {
        withUnsafeBytes(of: uuid) { Array($0) }
    }

    fileprivate init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "a UUID has 16 bytes")
        self.init(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }
}

extension UInt32 {
    fileprivate var bigEndianBytes: [UInt8] {
        [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: self >> UInt32($0)) }
    }
}
