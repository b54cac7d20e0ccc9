/// SHA-1 (FIPS 180-4), for name-based UUIDs (RFC 9562 version 5) and the MAC addresses derived from them.
///
/// SHA-1 is broken for collision resistance, but UUIDv5 defines its input, and nothing here defends against an
/// adversary: the hash only has to spread names evenly and give every node the same answer. A few dozen lines keep
/// the package free of a crypto dependency for that.
struct SHA1 {
    /// The chaining state h0...h4.
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0
    )
    /// Bytes not yet hashed; always fewer than a 64-byte block between calls.
    private var pending: [UInt8] = []
    /// Message length so far, in bytes.
    private var length: UInt64 = 0

    init() {
        pending.reserveCapacity(64)
    }

    /// The 20-byte digest of `bytes`.
    static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var sha = SHA1()
        sha.update(bytes)
        return sha.finalize()
    }

    /// Appends bytes to the message.
    mutating func update(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            length &+= 1
            absorb(byte)
        }
    }

    /// Pads the message and returns the 20-byte digest.
    consuming func finalize() -> [UInt8] {
        let bitLength = length &* 8
        absorb(0x80)
        while pending.count != 56 {
            absorb(0)
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            absorb(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        let words = [state.0, state.1, state.2, state.3, state.4]
        return words.flatMap { word in
            [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: word >> UInt32($0)) }
        }
    }

    /// Adds one byte to the pending block and compresses the block when it is full.
    private mutating func absorb(_ byte: UInt8) {
        pending.append(byte)
        if pending.count == 64 {
            compress(pending)
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// Processes one 64-byte block (FIPS 180-4 section 6.1.2).
    private mutating func compress(_ block: [UInt8]) {
        var w = [UInt32](repeating: 0, count: 80)
        for t in 0..<16 {
            w[t] =
                UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16
                | UInt32(block[4 * t + 2]) << 8 | UInt32(block[4 * t + 3])
        }
        for t in 16..<80 {
            w[t] = rotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], by: 1)
        }
        var (a, b, c, d, e) = state
        for t in 0..<80 {
            let f: UInt32
            let k: UInt32
            switch t {
            case 0..<20:
                f = (b & c) | (~b & d)
                k = 0x5A82_7999
            case 20..<40:
                f = b ^ c ^ d
                k = 0x6ED9_EBA1
            case 40..<60:
                f = (b & c) | (b & d) | (c & d)
                k = 0x8F1B_BCDC
            default:
                f = b ^ c ^ d
                k = 0xCA62_C1D6
            }
            let temp = rotateLeft(a, by: 5) &+ f &+ e &+ k &+ w[t]
            e = d
            d = c
            c = rotateLeft(b, by: 30)
            b = a
            a = temp
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
    }

    private func rotateLeft(_ value: UInt32, by count: UInt32) -> UInt32 {
        value << count | value >> (32 - count)
    }
}
