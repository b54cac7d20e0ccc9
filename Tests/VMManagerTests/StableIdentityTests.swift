// FoundationEssentials, not Foundation: Foundation's bundled ICU and the system ICU that libxml2's headers include
// (through the Libvirt module's CLibXML2 dependency) clash in one module ("'UErrorCode' has different definitions").
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Libvirt
import Testing

@testable import VMManager

@Suite("SHA-1")
struct SHA1Tests {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    @Test(
        "FIPS 180 test vectors",
        arguments: [
            ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                    + "mnopqrstnopqrstu",
                "a49b2446a02c645bf419f995b67091253a04a259"
            ),
        ]
    )
    func vectors(message: String, digest: String) {
        #expect(hex(SHA1.hash(Array(message.utf8))) == digest)
    }

    @Test("FIPS 180 test vector: one million times 'a'")
    func millionA() {
        #expect(
            hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
                == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test(
        "messages around the padding boundary (digests from Python's hashlib)",
        arguments: [
            (55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"),
            (56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"),
            (63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"),
            (64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"),
            (65, "11655326c708d70319be2610e8a57d9a5b959d3b"),
        ]
    )
    func paddingBoundaries(length: Int, digest: String) {
        #expect(hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: length))) == digest)
    }

    @Test("feeding the message in pieces gives the same digest")
    func incremental() {
        var sha = SHA1()
        sha.update(Array("abcdbcdecdefdefgefghfghighij".utf8))
        sha.update(Array("hijkijkljklmklmnlmnomnopnopq".utf8))
        #expect(hex(sha.finalize()) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }
}

/// Definitions shared by the identity tests.
private enum Fixture {
    /// No `<uuid>`, two interfaces without `<mac>`.
    static let unpinned = """
        <domain type='kvm'>
          <name>web1</name>
          <memory unit='GiB'>2</memory>
          <devices>
            <interface type='network'>
              <source network='default'/>
              <model type='virtio'/>
            </interface>
            <interface type='bridge'>
              <source bridge='br0'/>
            </interface>
          </devices>
        </domain>

        """

    static func domain(_ name: String, uuid: String? = nil, macs: [String?]) -> String {
        let uuidElement = uuid.map { "<uuid>\($0)</uuid>" } ?? ""
        let interfaces = macs.map { mac in
            let macElement = mac.map { "<mac address='\($0)'/>" } ?? ""
            return "<interface type='network'>\(macElement)<source network='default'/></interface>"
        }
        return "<domain><name>\(name)</name>\(uuidElement)<devices>\(interfaces.joined())</devices></domain>"
    }
}

@Suite("StableIdentity UUIDs")
struct StableIdentityUUIDTests {
    @Test("the namespace is the documented constant")
    func namespace() {
        #expect(StableIdentity.namespace.uuidString.lowercased() == "1e02a82c-684f-4820-81bd-8af9ecadb933")
    }

    @Test(
        "matches Python's uuid.uuid5(namespace, name)",
        arguments: [
            ("web1", "4bd2c926-687c-5541-8fa2-ef273ac626c9"),
            ("db-München", "57a0cd0f-3703-54f7-acb9-933553f57cbb"),
            ("bare", "d29ee60d-d3a6-59d9-9ba7-e0e8265d1258"),
            ("", "38d62b30-040e-51af-a0d5-0fd5f4640991"),
        ]
    )
    func knownValues(name: String, expected: String) {
        #expect(StableIdentity.uuid(forName: name).uuidString.lowercased() == expected)
    }

    @Test(
        "has version 5 and the RFC 9562 variant", arguments: ["web1", "db1", "a", String(repeating: "x", count: 300)])
    func versionAndVariant(name: String) {
        let uuid = StableIdentity.uuid(forName: name).uuid
        #expect(uuid.6 >> 4 == 5)
        #expect(uuid.8 >> 6 == 0b10)
    }

    @Test("is the same for the same name and differs between names")
    func determinism() {
        #expect(StableIdentity.uuid(forName: "web1") == StableIdentity.uuid(forName: "web1"))
        #expect(StableIdentity.uuid(forName: "web1") != StableIdentity.uuid(forName: "web2"))
        #expect(StableIdentity.uuid(forName: "web1") != StableIdentity.uuid(forName: "Web1"))
    }
}

@Suite("StableIdentity MAC addresses")
struct StableIdentityMACTests {
    private let web1 = StableIdentity.uuid(forName: "web1")

    @Test("match SHA-1 of the UUID bytes and the big-endian index (computed with Python's hashlib)")
    func knownValues() throws {
        #expect(StableIdentity.mac(for: web1, interfaceIndex: 0).description == "52:54:00:72:fc:5a")
        #expect(StableIdentity.mac(for: web1, interfaceIndex: 1).description == "52:54:00:5c:d7:1c")
        #expect(StableIdentity.mac(for: web1, interfaceIndex: 2).description == "52:54:00:65:07:49")
        let fixed = try #require(UUID(uuidString: "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"))
        #expect(StableIdentity.mac(for: fixed, interfaceIndex: 0).description == "52:54:00:2a:8b:3b")
    }

    @Test("start with 52:54:00 and are distinct per index")
    func prefixAndUniqueness() {
        for uuid in [web1, StableIdentity.uuid(forName: "db1"), UUID()] {
            let macs = (0..<64).map { StableIdentity.mac(for: uuid, interfaceIndex: $0) }
            #expect(macs.allSatisfy { $0.bytes.prefix(3) == [0x52, 0x54, 0x00] })
            #expect(Set(macs).count == macs.count)
        }
    }

    @Test("an index whose first candidate repeats a lower index's address takes the next attempt")
    func retryOnRepeat() {
        // For web1, SHA-1 gives index 6965 the address of a lower index (fa:42:15); appending attempt 1 gives
        // 8b:06:5d (both computed with Python's hashlib).
        let mac = StableIdentity.mac(for: web1, interfaceIndex: 6965)
        #expect(mac.description == "52:54:00:8b:06:5d")
    }

    @Test("differ between domains")
    func perDomain() {
        #expect(
            StableIdentity.mac(for: web1, interfaceIndex: 0)
                != StableIdentity.mac(for: StableIdentity.uuid(forName: "web2"), interfaceIndex: 0)
        )
    }
}

@Suite("StableIdentity pinning")
struct StableIdentityPinTests {
    @Test("fills the UUID and both MACs of an unpinned definition")
    func pinsMissing() throws {
        let definition = try DomainDefinition(xml: Fixture.unpinned)
        let pinned = StableIdentity.pin(definition)
        let uuid = StableIdentity.uuid(forName: "web1")
        let macs = [
            StableIdentity.mac(for: uuid, interfaceIndex: 0),
            StableIdentity.mac(for: uuid, interfaceIndex: 1),
        ]
        #expect(!pinned.isUnchanged)
        #expect(pinned.definition.uuid == uuid)
        #expect(pinned.definition.interfaces.map(\.mac) == macs)
        #expect(
            pinned.changes == [
                .addedUUID(uuid), .addedMAC(interfaceIndex: 0, macs[0]), .addedMAC(interfaceIndex: 1, macs[1]),
            ]
        )
        #expect(pinned.definition.interfaces.map(\.sourceNetwork) == ["default", nil])
        #expect(pinned.definition.memoryKiB == 2_097_152)
        #expect(definition.uuid == nil, "the input value is not changed")
    }

    @Test("writes the expected XML")
    func pinnedXML() throws {
        let pinned = StableIdentity.pin(try DomainDefinition(xml: Fixture.unpinned))
        #expect(
            pinned.definition.xml == """
                <domain type="kvm">
                  <name>web1</name>
                  <uuid>4bd2c926-687c-5541-8fa2-ef273ac626c9</uuid>
                  <memory unit="GiB">2</memory>
                  <devices>
                    <interface type="network">
                      <mac address="52:54:00:72:fc:5a"/>
                      <source network="default"/>
                      <model type="virtio"/>
                    </interface>
                    <interface type="bridge">
                      <mac address="52:54:00:5c:d7:1c"/>
                      <source bridge="br0"/>
                    </interface>
                  </devices>
                </domain>

                """
        )
    }

    @Test("is deterministic: pinning the same XML twice gives byte-identical XML")
    func deterministic() throws {
        let first = StableIdentity.pin(try DomainDefinition(xml: Fixture.unpinned))
        let second = StableIdentity.pin(try DomainDefinition(xml: Fixture.unpinned))
        #expect(first.definition.xml == second.definition.xml)
        #expect(first == second)
    }

    @Test("pinning a pinned definition changes nothing")
    func idempotent() throws {
        let pinned = StableIdentity.pin(try DomainDefinition(xml: Fixture.unpinned))
        let again = StableIdentity.pin(pinned.definition)
        #expect(again.isUnchanged)
        #expect(again.changes.isEmpty)
        #expect(again.definition == pinned.definition)
    }

    @Test("an existing UUID and MAC are kept; MACs are derived from the existing UUID")
    func keepsPresent() throws {
        let uuid = "0f0e0d0c-0b0a-4908-8706-050403020100"
        let xml = Fixture.domain("web1", uuid: uuid, macs: ["52:54:00:AA:BB:CC", nil])
        let pinned = StableIdentity.pin(try DomainDefinition(xml: xml))
        let existing = try #require(UUID(uuidString: uuid))
        #expect(pinned.definition.uuid == existing)
        #expect(pinned.definition.interfaces[0].mac == MACAddress("52:54:00:aa:bb:cc"))
        #expect(pinned.definition.interfaces[1].mac == StableIdentity.mac(for: existing, interfaceIndex: 1))
        #expect(pinned.changes == [.addedMAC(interfaceIndex: 1, StableIdentity.mac(for: existing, interfaceIndex: 1))])
        #expect(pinned.definition.xml.contains("<uuid>\(uuid)</uuid>"))
        #expect(pinned.definition.xml.contains("<mac address=\"52:54:00:AA:BB:CC\"/>"), "written text is untouched")
    }

    @Test("a fully specified definition is returned unchanged, byte for byte")
    func unchanged() throws {
        let xml = Fixture.domain("db1", uuid: "0f0e0d0c-0b0a-4908-8706-050403020100", macs: ["52:54:00:00:00:01"])
        let definition = try DomainDefinition(xml: xml)
        let pinned = StableIdentity.pin(definition)
        #expect(pinned.isUnchanged)
        #expect(pinned.definition.xml == xml)
    }

    @Test("a generated MAC never repeats one already written in the definition")
    func avoidsWrittenMAC() throws {
        let uuid = StableIdentity.uuid(forName: "web1")
        let derived = StableIdentity.mac(for: uuid, interfaceIndex: 1)
        let xml = Fixture.domain("web1", uuid: uuid.uuidString, macs: [derived.description, nil])
        let pinned = StableIdentity.pin(try DomainDefinition(xml: xml))
        let macs = pinned.definition.interfaces.compactMap(\.mac)
        #expect(macs.count == 2)
        #expect(macs[0] == derived)
        #expect(macs[1] != derived)
        #expect(StableIdentity.macConflicts(of: pinned.definition, among: []).isEmpty)
    }

    @Test("change descriptions say what was added")
    func descriptions() throws {
        let mac = try #require(MACAddress("52:54:00:01:02:03"))
        #expect(
            IdentityChange.addedMAC(interfaceIndex: 1, mac).description
                == "added <mac address='52:54:00:01:02:03'/> to the interface at index 1, derived from the domain UUID"
        )
        let uuid = StableIdentity.uuid(forName: "web1")
        let description = IdentityChange.addedUUID(uuid).description
        #expect(description.contains("<uuid>4bd2c926-687c-5541-8fa2-ef273ac626c9</uuid>"))
    }
}

@Suite("StableIdentity MAC conflicts")
struct MACConflictTests {
    @Test("the same MAC in another domain is a conflict")
    func otherDomain() throws {
        let web = try DomainDefinition(xml: Fixture.domain("web1", macs: [nil, "52:54:00:00:00:01"]))
        let db = try DomainDefinition(xml: Fixture.domain("db1", macs: ["52:54:00:00:00:09", "52:54:00:00:00:01"]))
        let conflicts = StableIdentity.macConflicts(of: web, among: [db])
        let mac = try #require(MACAddress("52:54:00:00:00:01"))
        #expect(
            conflicts == [
                MACConflict(
                    mac: mac, domain: "web1", interfaceIndex: 1, otherDomain: "db1", otherInterfaceIndex: 1,
                    isWithinDefinition: false
                )
            ]
        )
        let description = try #require(conflicts.first).description
        #expect(description.contains("52:54:00:00:00:01"))
        #expect(description.contains("'db1'"))
        #expect(description.contains("remove the <mac> element"))
    }

    @Test("the same domain on another node, by UUID or by name, is not a conflict")
    func sameDomain() throws {
        let uuid = "0f0e0d0c-0b0a-4908-8706-050403020100"
        let here = try DomainDefinition(xml: Fixture.domain("web1", uuid: uuid, macs: ["52:54:00:00:00:01"]))
        let renamed = try DomainDefinition(xml: Fixture.domain("web1-old", uuid: uuid, macs: ["52:54:00:00:00:01"]))
        let unpinned = try DomainDefinition(xml: Fixture.domain("web1", macs: ["52:54:00:00:00:01"]))
        #expect(StableIdentity.macConflicts(of: here, among: [here, renamed, unpinned]).isEmpty)
    }

    @Test("a domain with the same name but another UUID is another domain")
    func sameNameOtherUUID() throws {
        let here = try DomainDefinition(
            xml: Fixture.domain("web1", uuid: "0f0e0d0c-0b0a-4908-8706-050403020100", macs: ["52:54:00:00:00:01"])
        )
        let impostor = try DomainDefinition(
            xml: Fixture.domain("web1", uuid: "1f0e0d0c-0b0a-4908-8706-050403020100", macs: ["52:54:00:00:00:01"])
        )
        #expect(StableIdentity.macConflicts(of: here, among: [impostor]).count == 1)
    }

    @Test("the same MAC twice in one definition is a conflict")
    func withinDefinition() throws {
        let xml = Fixture.domain("web1", macs: ["52:54:00:00:00:01", nil, "52:54:00:00:00:01"])
        let conflicts = StableIdentity.macConflicts(of: try DomainDefinition(xml: xml), among: [])
        try #require(conflicts.count == 1)
        #expect(conflicts[0].isWithinDefinition)
        #expect(conflicts[0].interfaceIndex == 2)
        #expect(conflicts[0].otherInterfaceIndex == 0)
        #expect(conflicts[0].description.contains("interfaces 0 and 2 of domain 'web1'"))
    }

    @Test("the same other domain listed twice is reported once")
    func duplicatesRemoved() throws {
        let web = try DomainDefinition(xml: Fixture.domain("web1", macs: ["52:54:00:00:00:01"]))
        let db = try DomainDefinition(xml: Fixture.domain("db1", macs: ["52:54:00:00:00:01"]))
        #expect(StableIdentity.macConflicts(of: web, among: [db, db]).count == 1)
    }

    @Test("distinct MACs, and interfaces without one, are no conflict")
    func noConflict() throws {
        let web = try DomainDefinition(xml: Fixture.domain("web1", macs: ["52:54:00:00:00:01", nil]))
        let db = try DomainDefinition(xml: Fixture.domain("db1", macs: ["52:54:00:00:00:02", nil]))
        #expect(StableIdentity.macConflicts(of: web, among: [db]).isEmpty)
    }

    @Test("pinned definitions of different domains do not conflict")
    func pinnedDomains() throws {
        let names = ["web1", "web2", "db1", "db2", "cache"]
        let pinned = try names.map { name in
            StableIdentity.pin(try DomainDefinition(xml: Fixture.domain(name, macs: [nil, nil, nil]))).definition
        }
        for definition in pinned {
            #expect(StableIdentity.macConflicts(of: definition, among: pinned).isEmpty)
        }
    }
}
