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
