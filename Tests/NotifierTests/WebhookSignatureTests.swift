import Testing
import VMManager
import VMManagerDelivery

/// The webhook signature (`X-Vmmanager-Signature: sha256=<hex>`, swift-crypto's HMAC-SHA256) against the published
/// vectors, computed through ``WebhookPayload/signature(body:secret:)`` itself.
@Suite("Webhook signature (HMAC-SHA256)")
struct WebhookSignatureTests {
    static func hex(_ s: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            bytes.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return bytes
    }

    /// RFC 4231 section 4, the test cases whose key is valid UTF-8 (the secret is a string read from a file):
    /// 1, 2, 4 and 5 (truncated output, checked on its prefix). Cases 3, 6 and 7 use 0xaa keys, which no
    /// secret file holding text can produce.
    @Test(
        "RFC 4231 HMAC-SHA256 test cases",
        arguments: [
            (
                "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
            ),
            (
                "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
            (
                "0102030405060708090a0b0c0d0e0f10111213141516171819", String(repeating: "cd", count: 50),
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
            ),
            (
                "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
                "a3b6167473100ee06e0c796c2955552b"
            ),
        ])
    func rfc4231(key: String, data: String, mac: String) {
        let secret = String(decoding: Self.hex(key), as: UTF8.self)
        #expect(Array(secret.utf8) == Self.hex(key))
        let signature = WebhookPayload.signature(body: Self.hex(data), secret: secret)
        #expect(signature.hasPrefix("sha256=" + mac))
        #expect(signature.count == "sha256=".count + 64)
    }

    @Test("the signature header is sha256= and the lower-case hex HMAC of the exact body")
    func signatureHeader() {
        // RFC 4231 test case 2 ("Jefe"), as a webhook body and secret.
        let body = Array("what do ya want for nothing?".utf8)
        let expected = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        #expect(WebhookPayload.signature(body: body, secret: "Jefe") == expected)
        #expect(WebhookPayload.signature(body: body + [0x20], secret: "Jefe") != expected)
        #expect(WebhookPayload.signature(body: body, secret: "jefe") != expected)
    }
}
