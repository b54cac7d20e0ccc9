#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A libvirt domain definition: the XML that `virDomainDefineXML` takes and `virDomainGetXMLDesc` returns, with the
/// parts high availability cares about read out as values.
///
/// The value holds the XML text and what was read from it, nothing that points into libxml2, so it is `Sendable` and
/// copies are independent. Edits (``settingUUID(_:)``, ``settingMAC(_:forInterfaceAt:)``) parse the text again,
/// change only the element concerned and return a new value; whitespace, comments and elements this type does not
/// know are kept, because libvirt's schema grows faster than any binding.
///
/// Devices are read from `/domain/devices`, in document order. Where libvirt applies a default for a missing
/// attribute, the property documents it and reports the default, so callers see what libvirt will do.
public struct DomainDefinition: Sendable, Equatable {
    /// The XML text. It is the input verbatim until an edit; after one it is libxml2's serialization of the edited
    /// document (attributes in double quotes, everything else as it was).
    public let xml: String
    /// `<name>`, exactly as written.
    public let name: String
    /// `<uuid>`, or `nil` when the definition leaves it to libvirt to generate a random one.
    public let uuid: UUID?
    /// The `type` attribute of `<domain>`: `kvm`, `qemu`, `xen`, `lxc`, ...
    public let hypervisorType: String?
    /// Whether this is a libvirt LXC container (`type='lxc'`): no managed save, no live migration.
    public var isContainer: Bool { hypervisorType == "lxc" }
    /// `<memory>` in KiB, converted from its `unit` attribute (KiB when absent) and rounded up as libvirt does.
    public let memoryKiB: UInt64?
    /// `<interface>` elements.
    public let interfaces: [Interface]
    /// `<disk>` elements.
    public let disks: [Disk]
    /// `<serial>` elements.
    public let serials: [CharacterDevice]
    /// `<console>` elements.
    public let consoles: [CharacterDevice]
    /// `<channel>` elements.
    public let channels: [Channel]

    /// Whether the guest has the virtio channel the QEMU guest agent listens on, which is what lets a graceful
    /// shutdown or a filesystem freeze go through the agent instead of ACPI.
    public var hasGuestAgentChannel: Bool {
        channels.contains { $0.targetType == "virtio" && $0.targetName == Channel.guestAgentName }
    }

    /// Parses a domain definition.
    ///
    /// The XML is parsed without network access and without expanding entities, so a `<!DOCTYPE>` with external
    /// entities cannot pull files into the definition.
    ///
    /// - Parameter xml: Domain XML as libvirt documents it (https://libvirt.org/formatdomain.html).
    /// - Throws: ``DomainDefinitionError`` when the XML is not well-formed (with libxml2's line number), the root is
    ///   not `<domain>`, `<name>` is missing or empty, or a `<uuid>`, `<memory>` or MAC address is not valid.
    public init(xml: String) throws(DomainDefinitionError) {
        let tree: XMLTree
        do {
            tree = try XMLTree(parsing: xml)
        } catch {
            throw DomainDefinitionError(malformed: error)
        }
        try self.init(tree: tree, xml: xml)
    }

    /// Reads the values out of a parsed tree whose serialization is `xml`.
    private init(tree: XMLTree, xml: String) throws(DomainDefinitionError) {
        guard let root = tree.root, root.name == "domain" else {
            let found = tree.root.map { "<\($0.name)>" } ?? "nothing"
            throw DomainDefinitionError(.notADomain, "domain XML has root element \(found); expected <domain>")
        }
        guard let nameElement = root.firstChild(named: "name") else {
            throw DomainDefinitionError(.missingName, "domain XML has no <name> element")
        }
        let name = nameElement.text
        guard !name.isEmpty else {
            throw DomainDefinitionError(.missingName, "domain XML has an empty <name> element")
        }
        self.xml = xml
        self.name = name
        self.hypervisorType = root.attribute("type")

        if let uuidElement = root.firstChild(named: "uuid") {
            let text = uuidElement.text
            guard let uuid = UUID(libvirtString: text) else {
                throw DomainDefinitionError(
                    .invalidValue,
                    "domain XML has an invalid <uuid> '\(text)': expected 32 hexadecimal digits, "
                        + "such as 4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
                )
            }
            self.uuid = uuid
        } else {
            self.uuid = nil
        }

        if let memory = root.firstChild(named: "memory") {
            self.memoryKiB = try Self.kibibytes(memory.text, unit: memory.attribute("unit"))
        } else {
            self.memoryKiB = nil
        }

        self.interfaces = try tree.elements("devices/interface", relativeTo: root).enumerated().map {
            (index, element) throws(DomainDefinitionError) in try Interface(element, index: index)
        }
        self.disks = tree.elements("devices/disk", relativeTo: root).map(Disk.init)
        self.serials = tree.elements("devices/serial", relativeTo: root).map(CharacterDevice.init)
        self.consoles = tree.elements("devices/console", relativeTo: root).map(CharacterDevice.init)
        self.channels = tree.elements("devices/channel", relativeTo: root).map(Channel.init)
    }

    /// Two definitions are equal when their XML text is; everything else is read from it.
    public static func == (lhs: DomainDefinition, rhs: DomainDefinition) -> Bool {
        lhs.xml == rhs.xml
    }

    /// Returns the definition with `<uuid>` set to `uuid`.
    ///
    /// An existing `<uuid>` gets the new text; otherwise the element is added right after `<name>`, where libvirt
    /// writes it.
    public func settingUUID(_ uuid: UUID) -> DomainDefinition {
        edited { root, _ in
            let text = uuid.uuidString.lowercased()
            if let existing = root.firstChild(named: "uuid") {
                existing.setText(text)
            } else {
                // init(tree:xml:) guarantees <name>.
                let after = root.firstChild(named: "name")?.nextSiblingElement
                root.addChild(named: "uuid", before: after).setText(text)
            }
        }
    }

    /// Returns the definition with `<mac address=...>` of one interface set to `mac`.
    ///
    /// An existing `<mac>` keeps its other attributes; otherwise `<mac>` is added as the interface's first child,
    /// where libvirt writes it.
    ///
    /// - Parameters:
    ///   - mac: The address.
    ///   - index: The interface's position in ``interfaces``.
    /// - Throws: ``DomainDefinitionError`` with code ``DomainDefinitionError/Code/noSuchInterface`` when `index` is
    ///   not a position in ``interfaces``.
    public func settingMAC(
        _ mac: MACAddress, forInterfaceAt index: Int
    ) throws(DomainDefinitionError)
        -> DomainDefinition
    {
        guard interfaces.indices.contains(index) else {
            let count = interfaces.count == 1 ? "1 interface" : "\(interfaces.count) interfaces"
            throw DomainDefinitionError(
                .noSuchInterface,
                "domain '\(name)' has no interface at index \(index); it has \(count)"
            )
        }
        return edited { root, tree in
            let interface = tree.elements("devices/interface", relativeTo: root)[index]
            if let existing = interface.firstChild(named: "mac") {
                existing.setAttribute("address", to: mac.description)
            } else {
                interface.addChild(named: "mac", before: interface.children.first)
                    .setAttribute("address", to: mac.description)
            }
        }
    }

    /// Parses ``xml`` again, applies `edit` to the `<domain>` element and reads the result.
    ///
    /// The text parsed once already, and edits only set values that parse, so a failure here is a bug in this file.
    private func edited(_ edit: (XMLTree.Element, XMLTree) -> Void) -> DomainDefinition {
        do {
            let tree = try XMLTree(parsing: xml)
            guard let root = tree.root else { preconditionFailure("a parsed domain definition lost its root") }
            edit(root, tree)
            return try DomainDefinition(tree: tree, xml: tree.serialized())
        } catch {
            preconditionFailure("editing domain '\(name)' produced XML that does not parse again: \(error)")
        }
    }

    /// Converts a `<memory>` value to KiB the way libvirt's `virScaleInteger` and `virDomainParseMemory` do: units
    /// are case-insensitive, `KB`/`MB`/... are powers of 1000, `k`/`KiB`/`M`/`MiB`/... powers of 1024, and bytes are
    /// rounded up to whole KiB.
    private static func kibibytes(_ text: String, unit: String?) throws(DomainDefinitionError) -> UInt64 {
        let digits = text.trimmingWhitespace()
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let value = UInt64(digits)
        else {
            throw DomainDefinitionError(.invalidValue, "domain XML has an invalid <memory> value '\(text)'")
        }
        guard let scale = byteScale(of: unit ?? "KiB") else {
            throw DomainDefinitionError(
                .invalidValue,
                "domain XML has an unknown <memory> unit '\(unit ?? "")'; use b, KiB, MiB, GiB, TiB, KB, MB, GB or TB"
            )
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: scale)
        guard !overflow else {
            throw DomainDefinitionError(
                .invalidValue,
                "domain XML has a <memory> of \(text) \(unit ?? "KiB"), more than 16 EiB"
            )
        }
        return bytes / 1024 + (bytes % 1024 == 0 ? 0 : 1)
    }

    private static func byteScale(of unit: String) -> UInt64? {
        let unit = unit.lowercased()
        if unit.isEmpty {
            return 1024
        }
        if unit == "b" || unit == "byte" || unit == "bytes" {
            return 1
        }
        let base: UInt64
        switch unit.dropFirst() {
        case "", "ib": base = 1024
        case "b": base = 1000
        default: return nil
        }
        let exponent: Int
        switch unit.first {
        case "k": exponent = 1
        case "m": exponent = 2
        case "g": exponent = 3
        case "t": exponent = 4
        case "p": exponent = 5
        case "e": exponent = 6
        default: return nil
        }
        return (0..<exponent).reduce(1) { scale, _ in scale * base }
    }
}

extension UUID {
    /// Parses a UUID the way libvirt's `virUUIDParse` does: 32 hexadecimal digits in pairs, with any dashes or spaces
    /// between the pairs and whitespace around them. Foundation's parser takes only the 8-4-4-4-12 form, which
    /// would reject definitions libvirt accepts.
    init?(libvirtString text: String) {
        var bytes: [UInt8] = []
        var characters = text.utf8.drop(while: \.isASCIIWhitespace)[...]
        while bytes.count < 16 {
            guard let first = characters.first else { return nil }
            if first == UInt8(ascii: "-") || first == UInt8(ascii: " ") {
                characters = characters.dropFirst()
                continue
            }
            guard let high = first.hexDigitValue, let second = characters.dropFirst().first,
                let low = second.hexDigitValue
            else { return nil }
            bytes.append(high << 4 | low)
            characters = characters.dropFirst(2)
        }
        guard characters.allSatisfy(\.isASCIIWhitespace) else { return nil }
        self.init(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }
}

extension UInt8 {
    var isASCIIHexDigit: Bool {
        hexDigitValue != nil
    }

    var hexDigitValue: UInt8? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): self - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): self - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): self - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    var isASCIIWhitespace: Bool {
        self == UInt8(ascii: " ") || self == UInt8(ascii: "\t") || self == UInt8(ascii: "\n")
            || self == UInt8(ascii: "\r") || self == 0x0B || self == 0x0C
    }
}

extension String {
    /// The string without leading and trailing whitespace (FoundationEssentials has no `trimmingCharacters`).
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
