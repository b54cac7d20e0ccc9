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
    /// The `type` attribute of `<domain>`: `kvm`, `qemu`, `xen`, ...
    public let hypervisorType: String?
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
    public func settingMAC(_ mac: MACAddress, forInterfaceAt index: Int) throws(DomainDefinitionError)
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

extension DomainDefinition {
    /// An `<interface>`: a guest NIC.
    public struct Interface: Sendable, Hashable {
        /// `type`: `network`, `bridge`, `direct`, ...; `user` when absent, as libvirt defaults.
        public var type: String
        /// `<mac address=...>`, or `nil` when libvirt would generate a random one each time the domain is defined.
        public var mac: MACAddress?
        /// `<model type=...>`, such as `virtio`.
        public var model: String?
        /// `<source network=...>` of a `network` interface.
        public var sourceNetwork: String?
        /// `<source bridge=...>` of a `bridge` interface.
        public var sourceBridge: String?
        /// `<source dev=...>` of a `direct` (macvtap) interface.
        public var sourceDevice: String?

        public init(
            type: String,
            mac: MACAddress? = nil,
            model: String? = nil,
            sourceNetwork: String? = nil,
            sourceBridge: String? = nil,
            sourceDevice: String? = nil
        ) {
            self.type = type
            self.mac = mac
            self.model = model
            self.sourceNetwork = sourceNetwork
            self.sourceBridge = sourceBridge
            self.sourceDevice = sourceDevice
        }

        fileprivate init(_ element: XMLTree.Element, index: Int) throws(DomainDefinitionError) {
            let source = element.firstChild(named: "source")
            self.type = element.attribute("type") ?? "user"
            self.model = element.firstChild(named: "model")?.attribute("type")
            self.sourceNetwork = source?.attribute("network")
            self.sourceBridge = source?.attribute("bridge")
            self.sourceDevice = source?.attribute("dev")
            if let address = element.firstChild(named: "mac")?.attribute("address") {
                // libvirt's virMacAddrParse allows trailing whitespace.
                guard let mac = MACAddress(address.trimmingWhitespace()) else {
                    throw DomainDefinitionError(
                        .invalidValue,
                        "domain XML has an invalid MAC address '\(address)' on the interface at index \(index); "
                            + "expected six hexadecimal bytes such as 52:54:00:12:34:56"
                    )
                }
                self.mac = mac
            } else {
                self.mac = nil
            }
        }
    }

    /// A `<disk>`.
    public struct Disk: Sendable, Hashable {
        /// `device`: `disk`, `cdrom`, `floppy` or `lun`; `disk` when absent, as libvirt defaults.
        public var device: String
        /// `type`: `file`, `block`, `network`, `volume`, ...; `file` when absent, as libvirt defaults.
        public var type: String
        /// Where the data lives: `<source file=...>`, `dev=`, `dir=` or `name=` (network disks), or `pool/volume` for
        /// volume disks; `nil` for an empty cdrom drive.
        public var source: String?
        /// `<driver type=...>`: the image format, such as `qcow2` or `raw`.
        public var driverType: String?
        /// `<target dev=...>`, the name the guest is told, such as `vda`.
        public var targetDevice: String?
        /// `<target bus=...>`: `virtio`, `sata`, `scsi`, ...
        public var bus: String?
        /// Whether `<readonly/>` is present.
        public var readOnly: Bool
        /// Whether `<shareable/>` is present: the image may be attached to several guests at once, so locking that
        /// guards against running one guest twice must not treat it as exclusive.
        public var shareable: Bool

        public init(
            device: String = "disk",
            type: String = "file",
            source: String? = nil,
            driverType: String? = nil,
            targetDevice: String? = nil,
            bus: String? = nil,
            readOnly: Bool = false,
            shareable: Bool = false
        ) {
            self.device = device
            self.type = type
            self.source = source
            self.driverType = driverType
            self.targetDevice = targetDevice
            self.bus = bus
            self.readOnly = readOnly
            self.shareable = shareable
        }

        fileprivate init(_ element: XMLTree.Element) {
            let source = element.firstChild(named: "source")
            let target = element.firstChild(named: "target")
            self.device = element.attribute("device") ?? "disk"
            self.type = element.attribute("type") ?? "file"
            if let source {
                if let path = source.attribute("file") ?? source.attribute("dev") ?? source.attribute("dir")
                    ?? source.attribute("name")
                {
                    self.source = path
                } else if let pool = source.attribute("pool"), let volume = source.attribute("volume") {
                    self.source = "\(pool)/\(volume)"
                } else {
                    self.source = nil
                }
            } else {
                self.source = nil
            }
            self.driverType = element.firstChild(named: "driver")?.attribute("type")
            self.targetDevice = target?.attribute("dev")
            self.bus = target?.attribute("bus")
            self.readOnly = element.firstChild(named: "readonly") != nil
            self.shareable = element.firstChild(named: "shareable") != nil
        }
    }

    /// A `<serial>` or `<console>`.
    public struct CharacterDevice: Sendable, Hashable {
        /// `type`: `pty`, `file`, `unix`, `tcp`, ...; `pty` when absent, as libvirt defaults.
        public var type: String
        /// `<source path=...>`: the file or socket; for a running `pty` device, the `/dev/pts` node.
        public var sourcePath: String?
        /// `<log file=...>`: where libvirt copies the device's output.
        public var logFile: String?
        /// `<target type=...>`: `isa-serial`, `serial`, `virtio`, ...
        public var targetType: String?
        /// `<target port=...>`.
        public var targetPort: Int?

        public init(
            type: String = "pty",
            sourcePath: String? = nil,
            logFile: String? = nil,
            targetType: String? = nil,
            targetPort: Int? = nil
        ) {
            self.type = type
            self.sourcePath = sourcePath
            self.logFile = logFile
            self.targetType = targetType
            self.targetPort = targetPort
        }

        fileprivate init(_ element: XMLTree.Element) {
            let target = element.firstChild(named: "target")
            self.type = element.attribute("type") ?? "pty"
            self.sourcePath = element.firstChild(named: "source")?.attribute("path")
            self.logFile = element.firstChild(named: "log")?.attribute("file")
            self.targetType = target?.attribute("type")
            self.targetPort = target?.attribute("port").flatMap { Int($0.trimmingWhitespace()) }
        }
    }

    /// A `<channel>`: a named host–guest stream such as the QEMU guest agent's.
    public struct Channel: Sendable, Hashable {
        /// The `<target name=...>` of the QEMU guest agent's virtio channel.
        public static let guestAgentName = "org.qemu.guest_agent.0"

        /// `type`: `unix`, `pty`, `spicevmc`, ...; `pty` when absent, as libvirt defaults.
        public var type: String
        /// `<target type=...>`: `virtio`, `guestfwd`, `xen`.
        public var targetType: String?
        /// `<target name=...>`, such as ``guestAgentName``.
        public var targetName: String?
        /// `<source path=...>`: the host side's socket or file.
        public var sourcePath: String?

        public init(
            type: String = "pty",
            targetType: String? = nil,
            targetName: String? = nil,
            sourcePath: String? = nil
        ) {
            self.type = type
            self.targetType = targetType
            self.targetName = targetName
            self.sourcePath = sourcePath
        }

        fileprivate init(_ element: XMLTree.Element) {
            let target = element.firstChild(named: "target")
            self.type = element.attribute("type") ?? "pty"
            self.targetType = target?.attribute("type")
            self.targetName = target?.attribute("name")
            self.sourcePath = element.firstChild(named: "source")?.attribute("path")
        }
    }
}

/// An Ethernet MAC address.
///
/// Text form: six bytes in hexadecimal separated by colons, written lower-case (`52:54:00:ab:cd:ef`), as libvirt
/// writes them. Parsing accepts either case and, like libvirt's `virMacAddrParse`, one or two digits per byte.
public struct MACAddress: Hashable, Comparable, Sendable, LosslessStringConvertible, Codable {
    /// The 48 bits, first byte most significant.
    private let value: UInt64

    /// The six bytes, in transmission order.
    public var bytes: [UInt8] {
        (0..<6).map { UInt8(truncatingIfNeeded: value >> (8 * (5 - $0))) }
    }

    /// Creates an address from exactly six bytes; `nil` for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 6 else { return nil }
        value = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Parses `aa:bb:cc:dd:ee:ff` (either case, one or two hexadecimal digits per byte); `nil` for anything else.
    public init?(_ description: String) {
        let parts = description.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            // UInt8(_:radix:) alone would also take a leading "+".
            guard (1...2).contains(part.utf8.count), part.utf8.allSatisfy(\.isASCIIHexDigit),
                let byte = UInt8(part, radix: 16)
            else { return nil }
            bytes.append(byte)
        }
        self.init(bytes: bytes)
    }

    /// Lower-case, two digits per byte, colon-separated.
    public var description: String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: ":")
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool {
        lhs.value < rhs.value
    }

    /// Decodes the text form, so configuration files hold what an operator would type.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let address = MACAddress(text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "'\(text)' is not a MAC address such as 52:54:00:12:34:56"
            )
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Why a domain definition could not be read or edited.
///
/// Match on ``code`` (or use `catch DomainDefinitionError.Code.missingName`); ``description`` is a sentence for an
/// operator that says what is wrong and where.
public struct DomainDefinitionError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem it is. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case malformedXML, notADomain, missingName, invalidValue, noSuchInterface
        }

        private let value: Value

        private init(_ value: Value) {
            self.value = value
        }

        /// The text is not well-formed XML.
        public static let malformedXML = Code(.malformedXML)
        /// The root element is not `<domain>`.
        public static let notADomain = Code(.notADomain)
        /// `<name>` is missing or empty.
        public static let missingName = Code(.missingName)
        /// A `<uuid>`, `<memory>` or MAC address does not parse.
        public static let invalidValue = Code(.invalidValue)
        /// An edit named an interface index the definition does not have.
        public static let noSuchInterface = Code(.noSuchInterface)

        public var description: String {
            value.rawValue
        }

        /// Lets `catch DomainDefinitionError.Code.missingName` match.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? DomainDefinitionError)?.code == code
        }
    }

    /// What kind of problem it is.
    public let code: Code
    /// The 1-based line libxml2 reported, for ``Code/malformedXML``.
    public let line: Int?
    /// What is wrong and where.
    public let message: String

    public var description: String {
        message
    }

    init(_ code: Code, _ message: String, line: Int? = nil) {
        self.code = code
        self.message = message
        self.line = line
    }

    init(malformed error: XMLParseError) {
        let location = error.line.map { " (line \($0))" } ?? ""
        self.init(.malformedXML, "domain XML is not well-formed\(location): \(error.message)", line: error.line)
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
    fileprivate var isASCIIHexDigit: Bool {
        hexDigitValue != nil
    }

    fileprivate var hexDigitValue: UInt8? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): self - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): self - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): self - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    fileprivate var isASCIIWhitespace: Bool {
        self == UInt8(ascii: " ") || self == UInt8(ascii: "\t") || self == UInt8(ascii: "\n")
            || self == UInt8(ascii: "\r") || self == 0x0B || self == 0x0C
    }
}

extension String {
    /// The string without leading and trailing whitespace (FoundationEssentials has no `trimmingCharacters`).
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
