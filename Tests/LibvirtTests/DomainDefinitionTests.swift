// FoundationEssentials, not Foundation: Foundation's bundled ICU and the system ICU that libxml2's headers include
// (through the Libvirt module's CLibXML2 dependency) clash in one module ("'UErrorCode' has different definitions").
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Libvirt
import Testing

/// A definition as `virsh dumpxml --inactive` prints it for a small q35 guest, plus a comment and namespaced
/// metadata that an edit must not lose.
private let webXML = """
    <domain type='kvm'>
      <name>web1</name>
      <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
      <title>Webserver München</title>
      <metadata>
        <vmm:ha xmlns:vmm="https://example.org/vmmanager/1">
          <vmm:priority>10</vmm:priority>
        </vmm:ha>
      </metadata>
      <memory unit='KiB'>2097152</memory>
      <currentMemory unit='KiB'>2097152</currentMemory>
      <vcpu placement='static'>2</vcpu>
      <os>
        <type arch='x86_64' machine='pc-q35-8.2'>hvm</type>
        <boot dev='hd'/>
      </os>
      <features>
        <acpi/>
        <apic/>
      </features>
      <!-- managed by vmmanager -->
      <devices>
        <emulator>/usr/bin/qemu-system-x86_64</emulator>
        <disk type='file' device='disk'>
          <driver name='qemu' type='qcow2' cache='none'/>
          <source file='/var/lib/libvirt/images/web1.qcow2'/>
          <target dev='vda' bus='virtio'/>
          <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
        </disk>
        <disk type='file' device='cdrom'>
          <driver name='qemu' type='raw'/>
          <source file='/var/lib/libvirt/iso/install.iso'/>
          <target dev='sda' bus='sata'/>
          <readonly/>
          <address type='drive' controller='0' bus='0' target='0' unit='0'/>
        </disk>
        <interface type='network'>
          <mac address='52:54:00:6B:3C:58'/>
          <source network='default'/>
          <model type='virtio'/>
          <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
        </interface>
        <interface type='bridge'>
          <source bridge='br0'/>
          <model type='e1000e'/>
        </interface>
        <serial type='file'>
          <source path='/var/log/libvirt/qemu/web1-serial.txt'/>
          <log file='/var/log/libvirt/qemu/web1-serial.log' append='on'/>
          <target type='isa-serial' port='0'>
            <model name='isa-serial'/>
          </target>
        </serial>
        <console type='pty'>
          <target type='serial' port='0'/>
        </console>
        <channel type='unix'>
          <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-web1/org.qemu.guest_agent.0'/>
          <target type='virtio' name='org.qemu.guest_agent.0'/>
          <address type='virtio-serial' controller='0' bus='0' port='1'/>
        </channel>
      </devices>
    </domain>

    """

/// The smallest definition libvirt's test driver accepts, without `<uuid>` and with one interface without `<mac>`.
private let bareXML = """
    <domain type='test'>
      <name>bare</name>
      <memory>1024</memory>
      <devices>
        <interface type='network'>
          <source network='default'/>
        </interface>
      </devices>
    </domain>
    """

@Suite("DomainDefinition parsing")
struct DomainDefinitionParsingTests {
    @Test("reads name, UUID, hypervisor and memory")
    func topLevel() throws {
        let definition = try DomainDefinition(xml: webXML)
        #expect(definition.name == "web1")
        #expect(definition.uuid == UUID(uuidString: "4DEA22B3-1D52-D8F3-2516-782E98AB3FA0"))
        #expect(definition.hypervisorType == "kvm")
        #expect(definition.memoryKiB == 2_097_152)
        #expect(definition.xml == webXML, "an unedited definition keeps its text verbatim")
    }

    @Test("reads both interfaces, with and without a MAC")
    func interfaces() throws {
        let definition = try DomainDefinition(xml: webXML)
        #expect(
            definition.interfaces == [
                .init(type: "network", mac: MACAddress("52:54:00:6b:3c:58"), model: "virtio", sourceNetwork: "default"),
                .init(type: "bridge", mac: nil, model: "e1000e", sourceBridge: "br0"),
            ]
        )
    }

    @Test("reads the file disk and the read-only cdrom")
    func disks() throws {
        let definition = try DomainDefinition(xml: webXML)
        try #require(definition.disks.count == 2)
        #expect(
            definition.disks[0]
                == .init(
                    device: "disk", type: "file", source: "/var/lib/libvirt/images/web1.qcow2", driverType: "qcow2",
                    targetDevice: "vda", bus: "virtio", readOnly: false, shareable: false
                )
        )
        #expect(
            definition.disks[1]
                == .init(
                    device: "cdrom", type: "file", source: "/var/lib/libvirt/iso/install.iso", driverType: "raw",
                    targetDevice: "sda", bus: "sata", readOnly: true, shareable: false
                )
        )
    }

    @Test("reads the serial file, the pty console and the guest agent channel")
    func characterDevices() throws {
        let definition = try DomainDefinition(xml: webXML)
        #expect(
            definition.serials == [
                .init(
                    type: "file", sourcePath: "/var/log/libvirt/qemu/web1-serial.txt",
                    logFile: "/var/log/libvirt/qemu/web1-serial.log", targetType: "isa-serial", targetPort: 0
                )
            ]
        )
        #expect(definition.consoles == [.init(type: "pty", targetType: "serial", targetPort: 0)])
        #expect(
            definition.channels == [
                .init(
                    type: "unix", targetType: "virtio", targetName: "org.qemu.guest_agent.0",
                    sourcePath: "/var/lib/libvirt/qemu/channel/target/domain-web1/org.qemu.guest_agent.0"
                )
            ]
        )
        #expect(definition.hasGuestAgentChannel)
    }

    @Test("a guest without the agent channel, or with another virtio channel, has no guest agent")
    func noGuestAgent() throws {
        #expect(try !DomainDefinition(xml: bareXML).hasGuestAgentChannel)
        let spice = """
            <domain><name>s</name><devices>
              <channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>
            </devices></domain>
            """
        let definition = try DomainDefinition(xml: spice)
        #expect(definition.channels.count == 1)
        #expect(!definition.hasGuestAgentChannel)
    }

    @Test("absent optional parts are nil, and libvirt's attribute defaults are reported")
    func absentParts() throws {
        let xml = """
            <domain><name>min</name><devices>
              <interface/><disk><target dev='hdc'/></disk><serial/><channel><target type='virtio'/></channel>
            </devices></domain>
            """
        let definition = try DomainDefinition(xml: xml)
        #expect(definition.uuid == nil)
        #expect(definition.hypervisorType == nil)
        #expect(definition.memoryKiB == nil)
        #expect(definition.interfaces == [.init(type: "user")])
        #expect(definition.disks == [.init(device: "disk", type: "file", source: nil, targetDevice: "hdc")])
        #expect(definition.serials == [.init(type: "pty")])
        #expect(definition.channels == [.init(type: "pty", targetType: "virtio")])
    }

    @Test("block, network and volume disk sources, and shareable")
    func diskSources() throws {
        let xml = """
            <domain><name>d</name><devices>
              <disk type='block' device='disk'><source dev='/dev/vg0/data'/><shareable/></disk>
              <disk type='network' device='disk'><source protocol='rbd' name='pool/image'/></disk>
              <disk type='volume' device='disk'><source pool='default' volume='v1.img'/></disk>
              <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>
            </devices></domain>
            """
        let disks = try DomainDefinition(xml: xml).disks
        #expect(disks.map(\.type) == ["block", "network", "volume", "file"])
        #expect(disks.map(\.source) == ["/dev/vg0/data", "pool/image", "default/v1.img", nil])
        #expect(disks.map(\.shareable) == [true, false, false, false])
    }

    @Test(
        "memory units convert to KiB as libvirt does",
        arguments: [
            ("2048", nil, 2048),
            ("2048", "KiB", 2048),
            ("2048", "k", 2048),
            ("4", "M", 4096),
            ("1", "GiB", 1_048_576),
            ("1", "gib", 1_048_576),
            ("1", "GB", 976_563),  // 10^9 bytes, rounded up to whole KiB
            ("1", "TiB", 1_073_741_824),
            ("1024", "b", 1),
            ("1025", "bytes", 2),
            (" 512 ", "MiB", 524_288),
        ] as [(String, String?, UInt64)]
    )
    func memoryUnits(value: String, unit: String?, kibibytes: UInt64) throws {
        let unitAttribute = unit.map { " unit='\($0)'" } ?? ""
        let xml = "<domain><name>m</name><memory\(unitAttribute)>\(value)</memory></domain>"
        #expect(try DomainDefinition(xml: xml).memoryKiB == kibibytes)
    }

    @Test("a UUID without dashes, as libvirt accepts, parses")
    func uuidWithoutDashes() throws {
        let xml = "<domain><name>u</name><uuid> 4dea22b31d52d8f32516782e98ab3fa0\n</uuid></domain>"
        #expect(try DomainDefinition(xml: xml).uuid == UUID(uuidString: "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"))
    }

    @Test("the text is read as UTF-8 whatever encoding the declaration names")
    func declaredEncoding() throws {
        for encoding in ["ISO-8859-1", "bogus"] {
            let xml = "<?xml version='1.0' encoding='\(encoding)'?>\n<domain><name>db-München</name></domain>"
            #expect(try DomainDefinition(xml: xml).name == "db-München")
        }
    }

    @Test("an XML declaration in the input is accepted")
    func declaration() throws {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<domain><name>decl</name></domain>\n"
        let definition = try DomainDefinition(xml: xml)
        #expect(definition.name == "decl")
        #expect(definition.settingUUID(UUID()).xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<domain>"))
    }
}

@Suite("DomainDefinition errors")
struct DomainDefinitionErrorTests {
    @Test("malformed XML reports libxml2's message and the line")
    func malformed() throws {
        let xml = "<domain type='kvm'>\n  <name>web1</name>\n  <memory>1024</memroy>\n</domain>\n"
        let error = try #require(throws: DomainDefinitionError.self) { try DomainDefinition(xml: xml) }
        #expect(error.code == .malformedXML)
        #expect(error.line == 3)
        #expect(error.description.hasPrefix("domain XML is not well-formed (line 3): "))
        #expect(error.description.contains("memory"), "libxml2's message names the mismatched tag")
        #expect(!error.description.hasSuffix("\n"))
    }

    @Test("empty and non-XML input are malformed", arguments: ["", "   ", "not xml", "<domain>"])
    func notXML(xml: String) throws {
        let error = try #require(throws: DomainDefinitionError.self) { try DomainDefinition(xml: xml) }
        #expect(error.code == .malformedXML)
        #expect(error.description.hasPrefix("domain XML is not well-formed"))
    }

    @Test("a missing <name> is named in the error")
    func missingName() throws {
        let error = try #require(throws: DomainDefinitionError.self) {
            try DomainDefinition(xml: "<domain type='kvm'><memory>1024</memory></domain>")
        }
        #expect(error.code == .missingName)
        #expect(error.description == "domain XML has no <name> element")
    }

    @Test("an empty <name> is rejected")
    func emptyName() throws {
        let error = try #require(throws: DomainDefinitionError.self) {
            try DomainDefinition(xml: "<domain><name></name></domain>")
        }
        #expect(error.code == .missingName)
        #expect(error.description == "domain XML has an empty <name> element")
    }

    @Test("a root other than <domain> is rejected")
    func notADomain() throws {
        let error = try #require(throws: DomainDefinitionError.self) {
            try DomainDefinition(xml: "<network><name>default</name></network>")
        }
        #expect(error.code == .notADomain)
        #expect(error.description == "domain XML has root element <network>; expected <domain>")
    }

    @Test(
        "invalid values are rejected with what was found",
        arguments: [
            ("<uuid>not-a-uuid</uuid>", "<uuid> 'not-a-uuid'"),
            ("<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa</uuid>", "<uuid>"),
            ("<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0aa</uuid>", "<uuid>"),
            ("<memory>lots</memory>", "<memory> value 'lots'"),
            ("<memory>-1</memory>", "<memory> value '-1'"),
            ("<memory unit='parsecs'>1</memory>", "unit 'parsecs'"),
            ("<memory unit='EiB'>100</memory>", "more than 16 EiB"),
            (
                "<devices><interface type='network'><mac address='52:54:00:zz:00:01'/></interface></devices>",
                "MAC address '52:54:00:zz:00:01' on the interface at index 0"
            ),
        ]
    )
    func invalidValues(fragment: String, expected: String) throws {
        let error = try #require(throws: DomainDefinitionError.self) {
            try DomainDefinition(xml: "<domain><name>bad</name>\(fragment)</domain>")
        }
        #expect(error.code == .invalidValue)
        #expect(error.description.contains(expected))
    }

    @Test("the error code matches in a catch clause")
    func catchByCode() {
        do {
            _ = try DomainDefinition(xml: "<domain/>")
            Issue.record("a domain without a name parsed")
        } catch DomainDefinitionError.Code.missingName {
            // expected
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("libxml2 prints nothing to stderr for malformed input")
    func silentOnStderr() throws {
        let captured = try captureStandardError {
            let inputs = [
                "<domain>\n<name>x</nam>\n</domain>",
                "<domain><name>n</name><q:undeclared/></domain>",  // a namespace error that still yields a document
                "<domain a='1' a='2'><name>n</name></domain>",
                "<!DOCTYPE d [<!ENTITY % p SYSTEM 'http://127.0.0.1:9/x.dtd'> %p;]><domain/>",
                "&undefined;",
            ]
            for xml in inputs {
                _ = try? DomainDefinition(xml: xml)
            }
        }
        // Only libxml2's own wording is checked: Swift Testing may report other tests on stderr meanwhile.
        for marker in ["parser error", "I/O error", "namespace error", "Opening and ending tag", "failed to load"] {
            #expect(!captured.contains(marker), "libxml2 wrote: \(captured)")
        }
    }
}

@Suite("DomainDefinition entities")
struct DomainDefinitionEntityTests {
    /// A file the hostile XML points at; its content must never show up in a definition.
    private func secretFile() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vmm-secret-\(UUID().uuidString)")
        try "TOPSECRET-7f3a".write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("an external entity in a DOCTYPE is not expanded")
    func externalEntity() throws {
        let secret = try secretFile()
        defer { try? FileManager.default.removeItem(at: secret) }
        let xml = """
            <!DOCTYPE domain [
            <!ENTITY secret SYSTEM "\(secret.absoluteString)">
            ]>
            <domain type='kvm'>
              <name>vm-&secret;</name>
              <description>&secret;</description>
            </domain>
            """
        let definition = try DomainDefinition(xml: xml)
        #expect(definition.name == "vm-")
        #expect(!definition.xml.contains("TOPSECRET"))
        let edited = definition.settingUUID(UUID())
        #expect(!edited.xml.contains("TOPSECRET"))
        #expect(edited.xml.contains("&secret;"), "the reference is kept as written")
        #expect(edited.xml.contains("<!DOCTYPE domain"))
    }

    @Test("an external parameter entity is not loaded")
    func parameterEntity() throws {
        let secret = try secretFile()
        defer { try? FileManager.default.removeItem(at: secret) }
        let xml = """
            <!DOCTYPE domain [<!ENTITY % remote SYSTEM "\(secret.absoluteString)"> %remote;]>
            <domain><name>pe</name></domain>
            """
        let definition = try DomainDefinition(xml: xml)
        #expect(definition.name == "pe")
        #expect(!definition.settingUUID(UUID()).xml.contains("TOPSECRET"))
    }

    @Test("an internal entity keeps its reference in the XML")
    func internalEntity() throws {
        let xml = "<!DOCTYPE domain [<!ENTITY host \"web\">]><domain><name>&host;1</name></domain>"
        let definition = try DomainDefinition(xml: xml)
        #expect(definition.name == "web1", "libxml2 reports the replacement text of a declared internal entity")
        #expect(definition.settingUUID(UUID()).xml.contains("<name>&host;1</name>"))
    }
}

@Suite("DomainDefinition edits")
struct DomainDefinitionEditTests {
    @Test("settingUUID replaces an existing UUID and changes nothing else")
    func replaceUUID() throws {
        let original = try DomainDefinition(xml: webXML)
        let uuid = try #require(UUID(uuidString: "11111111-2222-3333-4444-555555555555"))
        let edited = original.settingUUID(uuid)
        #expect(edited.uuid == uuid)
        #expect(original.uuid == UUID(uuidString: "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"), "values are independent")
        let expected = webXML.replacing(
            "4dea22b3-1d52-d8f3-2516-782e98ab3fa0",
            with: "11111111-2222-3333-4444-555555555555"
        )
        // libxml2 writes attributes with double quotes; everything else comes back byte for byte.
        #expect(edited.xml == doubleQuoted(expected))
    }

    @Test("settingUUID adds <uuid> after <name>, indented like its siblings")
    func addUUID() throws {
        let bare = try DomainDefinition(xml: bareXML)
        let uuid = try #require(UUID(uuidString: "A0B1C2D3-E4F5-4607-8899-AABBCCDDEEFF"))
        let edited = bare.settingUUID(uuid)
        #expect(edited.uuid == uuid)
        #expect(
            edited.xml.contains("  <name>bare</name>\n  <uuid>a0b1c2d3-e4f5-4607-8899-aabbccddeeff</uuid>\n  <memory>")
        )
        #expect(bare.uuid == nil)
        #expect(try DomainDefinition(xml: edited.xml) == edited, "the edited XML parses to the same definition")
    }

    @Test("settingMAC adds <mac> as the interface's first child")
    func addMAC() throws {
        let definition = try DomainDefinition(xml: webXML)
        let mac = try #require(MACAddress("52:54:00:aa:bb:01"))
        let edited = try definition.settingMAC(mac, forInterfaceAt: 1)
        #expect(edited.interfaces[1].mac == mac)
        #expect(edited.interfaces[0] == definition.interfaces[0])
        #expect(
            edited.xml.contains(
                """
                    <interface type="bridge">
                      <mac address="52:54:00:aa:bb:01"/>
                      <source bridge="br0"/>
                """
            )
        )
        #expect(definition.interfaces[1].mac == nil)
    }

    @Test("settingMAC replaces an existing address in place")
    func replaceMAC() throws {
        let xml = """
            <domain><name>r</name><devices>
              <interface type='network'><mac address='52:54:00:00:00:01' type='static'/></interface>
            </devices></domain>
            """
        let mac = try #require(MACAddress("52:54:00:00:00:02"))
        let edited = try DomainDefinition(xml: xml).settingMAC(mac, forInterfaceAt: 0)
        #expect(edited.interfaces.map(\.mac) == [mac])
        #expect(edited.xml.contains("<mac address=\"52:54:00:00:00:02\" type=\"static\"/>"))
    }

    @Test("settingMAC on an interface without children indents the new element")
    func addMACToEmptyInterface() throws {
        let xml = "<domain>\n  <name>e</name>\n  <devices>\n    <interface type='user'/>\n  </devices>\n</domain>\n"
        let mac = try #require(MACAddress("52:54:00:00:00:03"))
        let edited = try DomainDefinition(xml: xml).settingMAC(mac, forInterfaceAt: 0)
        #expect(
            edited.xml == """
                <domain>
                  <name>e</name>
                  <devices>
                    <interface type="user">
                      <mac address="52:54:00:00:00:03"/>
                    </interface>
                  </devices>
                </domain>

                """
        )
    }

    @Test("settingMAC with an index past the interfaces throws", arguments: [-1, 2, 10])
    func macIndexOutOfRange(index: Int) throws {
        let definition = try DomainDefinition(xml: webXML)
        let mac = try #require(MACAddress("52:54:00:00:00:04"))
        let error = try #require(throws: DomainDefinitionError.self) {
            try definition.settingMAC(mac, forInterfaceAt: index)
        }
        #expect(error.code == .noSuchInterface)
        #expect(error.description == "domain 'web1' has no interface at index \(index); it has 2 interfaces")
    }

    @Test("edits keep unknown elements, comments, namespaces and non-ASCII text")
    func preservesUnknown() throws {
        let edited = try DomainDefinition(xml: webXML).settingUUID(UUID())
        #expect(edited.xml.contains("<vmm:ha xmlns:vmm=\"https://example.org/vmmanager/1\">"))
        #expect(edited.xml.contains("<vmm:priority>10</vmm:priority>"))
        #expect(edited.xml.contains("<!-- managed by vmmanager -->"))
        #expect(edited.xml.contains("<title>Webserver München</title>"))
        #expect(!edited.xml.hasPrefix("<?xml"), "no declaration is added to input without one")
        #expect(edited.xml.hasSuffix("</domain>\n"))
    }

    @Test("input without a trailing newline gets none after an edit")
    func trailingNewline() throws {
        let edited = try DomainDefinition(xml: bareXML).settingUUID(UUID())
        #expect(edited.xml.hasSuffix("</domain>"))
    }

    @Test("equal XML gives equal definitions; an edit makes them differ")
    func equality() throws {
        let first = try DomainDefinition(xml: webXML)
        let second = try DomainDefinition(xml: webXML)
        #expect(first == second)
        #expect(first != first.settingUUID(UUID()))
    }

    /// `webXML` as libxml2 serializes it: attribute values in double quotes.
    private func doubleQuoted(_ xml: String) -> String {
        let regex = /='([^']*)'/
        return xml.replacing(regex) { match in "=\"\(match.1)\"" }
    }
}

@Suite("MACAddress")
struct MACAddressTests {
    @Test(
        "parses colon-separated hex bytes in either case",
        arguments: [
            ("52:54:00:ab:cd:ef", [0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF]),
            ("52:54:00:AB:CD:EF", [0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF]),
            ("FF:ff:0:1:a:B", [0xFF, 0xFF, 0x00, 0x01, 0x0A, 0x0B]),
        ] as [(String, [UInt8])]
    )
    func parses(text: String, bytes: [UInt8]) throws {
        let mac = try #require(MACAddress(text))
        #expect(mac.bytes == bytes)
        #expect(mac == MACAddress(bytes: bytes))
    }

    @Test(
        "rejects anything else",
        arguments: [
            "", "52:54:00:ab:cd", "52:54:00:ab:cd:ef:01", "52-54-00-ab-cd-ef", "525400abcdef", "52:54:00:ab:cd:eg",
            "52:54:00:ab:cd:+f", "52:54:00:ab:cd:123", "52:54:00:ab::ef", " 52:54:00:ab:cd:ef", "52:54:00:ab:cd:ef ",
            "52:54:00:ab:cd:٣٣",
        ]
    )
    func rejects(text: String) {
        #expect(MACAddress(text) == nil)
    }

    @Test("prints lower-case with two digits per byte")
    func description() throws {
        let mac = try #require(MACAddress("A:B:C:D:E:F"))
        #expect(mac.description == "0a:0b:0c:0d:0e:0f")
        #expect(MACAddress(mac.description) == mac)
        #expect("\(try #require(MACAddress("52:54:00:AB:CD:EF")))" == "52:54:00:ab:cd:ef")
    }

    @Test("needs exactly six bytes")
    func byteCount() {
        #expect(MACAddress(bytes: [1, 2, 3, 4, 5]) == nil)
        #expect(MACAddress(bytes: [1, 2, 3, 4, 5, 6, 7]) == nil)
        #expect(MACAddress(bytes: [1, 2, 3, 4, 5, 6])?.description == "01:02:03:04:05:06")
    }

    @Test("encodes as its text and rejects invalid text when decoding")
    func codable() throws {
        let mac = try #require(MACAddress("52:54:00:AB:CD:EF"))
        let data = try JSONEncoder().encode([mac])
        #expect(String(decoding: data, as: UTF8.self) == #"["52:54:00:ab:cd:ef"]"#)
        #expect(try JSONDecoder().decode([MACAddress].self, from: data) == [mac])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([MACAddress].self, from: Data(#"["52:54"]"#.utf8))
        }
    }
}

/// Runs `body` with file descriptor 2 redirected to a temporary file and returns what was written to it.
private func captureStandardError(_ body: () throws -> Void) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vmm-stderr-\(UUID().uuidString)")
    let file = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    try #require(file >= 0, "cannot create \(url.path)")
    defer {
        close(file)
        try? FileManager.default.removeItem(at: url)
    }
    fflush(nil)
    let saved = dup(2)
    dup2(file, 2)
    defer {
        fflush(nil)
        dup2(saved, 2)
        close(saved)
    }
    try body()
    fflush(nil)
    return try String(contentsOf: url, encoding: .utf8)
}
