import Foundation
import Testing
@testable import VMManager

@Suite("Configuration and settings")
struct SettingsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vmm-\(UUID().uuidString).conf").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the shipped sample configuration parses and resolves to the defaults")
    func sampleConfiguration() throws {
        let path = Self.root + "/Resources/config/vmmanager.conf"
        let s = try GuestSettings.resolve(parameters: ["conf_file": path, "domain": "web1"])
        #expect(s.hypervisor == "qemu:///system")
        #expect(s.stopMethods == [.save, .shutdown, .destroy])
        #expect(s.readiness == .auto)
        #expect(s.stopTimeout == .seconds(90))
    }

    @Test("priority: defaults < [global] < [guest NAME] < agent parameters")
    func priority() throws {
        let path = try write("""
            [global]
            stop_methods = shutdown,destroy
            readiness = none
            [guest web1]
            readiness = tcp:192.0.2.1:80
            start_timeout = 30
            """)
        let web1 = try GuestSettings.resolve(parameters: ["conf_file": path, "domain": "web1"])
        #expect(web1.stopMethods == [.shutdown, .destroy])
        #expect(web1.readiness == .probe(.tcpPort(host: "192.0.2.1", port: 80)))
        #expect(web1.startTimeout == .seconds(30))
        let other = try GuestSettings.resolve(parameters: ["conf_file": path, "domain": "db1"])
        #expect(other.readiness == .probe(.none))
        let overridden = try GuestSettings.resolve(parameters: ["conf_file": path, "domain": "web1", "readiness": "uptime:60/15"])
        #expect(overridden.readiness == .probe(.uptime(coldBoot: .seconds(60), resumed: .seconds(15))))
        #expect(try GuestSettings.resolve(parameters: ["conf_file": path, "domain": "web1", "force_stop": "yes"]).stopMethods
            == [.destroy])
    }

    @Test("errors name the file, line and key, or the parameter")
    func errors() throws {
        let path = try write("[global]\nreadiness = auto\n\n[guest web1]\nstop_methods = save,reboot\n")
        let e = #expect(throws: ConfigError.self) {
            _ = try GuestSettings.resolve(parameters: ["conf_file": path, "domain": "web1"])
        }
        #expect(e?.description.hasSuffix("\(path):5: stop_methods: 'save,reboot': unknown method 'reboot'; use save, shutdown and destroy") == true,
                "\(String(describing: e))")
        let p = #expect(throws: ConfigError.self) {
            _ = try GuestSettings.resolve(parameters: ["conf_file": path, "domain": "x", "migration_speed": "fast"],
                                          parameterPrefix: "OCF_RESKEY_")
        }
        #expect(p?.description.contains("OCF_RESKEY_migration_speed") == true)
        let syntax = #expect(throws: ConfigError.self) { _ = try ConfigFile.parse("[global]\nnot a line\n", path: "f.conf") }
        // The line itself is never quoted: conf_file may name a file that is not ours to show.
        #expect(syntax?.description == "f.conf:2: expected 'key = value', a [section] or a # comment")
        let dup = #expect(throws: ConfigError.self) { _ = try ConfigFile.parse("[guest a]\n[guest a]\n", path: "f.conf") }
        #expect(dup?.description.contains("f.conf:2") == true)
        let explicit = #expect(throws: ConfigError.self) {
            _ = try GuestSettings.resolve(parameters: ["conf_file": "/nonexistent/x.conf", "domain": "a"])
        }
        #expect(explicit?.kind == .notFound)
        // The default file may be absent.
        _ = try GuestSettings.resolve(parameters: ["domain": "a", "state_dir": "/tmp"])
    }

    @Test("readiness settings parse, and auto follows the guest's agent channel")
    func readiness() throws {
        #expect(try ReadinessSetting.parse("serial:READY$") == .probe(.serialLine(pattern: "READY$")))
        #expect(throws: ReadinessSetting.ParseError.self) { try ReadinessSetting.parse("tcp:80") }
        #expect(throws: ReadinessSetting.ParseError.self) { try ReadinessSetting.parse("serial:(") }
        #expect(throws: ReadinessSetting.ParseError.self) { try ReadinessSetting.parse("uptime:x") }
        #expect(ReadinessSetting.auto.probe(for: nil) == .none)
    }

    @Test("migration URIs are built as VirtualDomain builds them")
    func migrationURIs() {
        let m = MigrationSettings(transport: "ssh", user: "admin", networkSuffix: "-mig", migrateURI: nil,
                                  remoteURI: nil, downtimeMilliseconds: 0, speedMiBPerSecond: 0)
        #expect(m.remoteURI(for: "node2", hypervisor: "qemu:///system") == "qemu+ssh://admin@node2-mig/system")
        #expect(m.dataURI(for: "node2") == "tcp:node2-mig")
        let t = MigrationSettings(transport: nil, user: nil, networkSuffix: nil, migrateURI: "tcp:%n:49152",
                                  remoteURI: "qemu+tls://%n/system", downtimeMilliseconds: 0, speedMiBPerSecond: 0)
        #expect(t.remoteURI(for: "b", hypervisor: "qemu:///system") == "qemu+tls://b/system")
        #expect(t.dataURI(for: "b") == "tcp:b:49152")
    }

    @Test("docs/agent.md documents every parameter of the table")
    func docsCoverEveryParameter() throws {
        let doc = try String(contentsOfFile: Self.root + "/docs/agent.md", encoding: .utf8)
        for p in Parameters.all { #expect(doc.contains("`\(p.name)`"), "docs/agent.md lacks \(p.name)") }
        for c in Parameters.acceptedForCompatibility { #expect(doc.contains("`\(c.name)`"), "docs/agent.md lacks \(c.name)") }
    }
}

@Suite("Saved-state settings")
struct SavedStateSettingsTests {
    @Test("saved_state: auto by default, managed, or an absolute directory; snapshot is its VirtualDomain name")
    func savedStateSetting() throws {
        #expect(try GuestSettings.resolve(parameters: ["domain": "web1"]).savedState == .auto)
        #expect(try GuestSettings.resolve(parameters: ["domain": "web1", "saved_state": "managed"]).savedState == .managed)
        #expect(try GuestSettings.resolve(parameters: ["domain": "web1", "snapshot": "/srv/saved"]).savedState
            == .directory("/srv/saved"))
        #expect(try GuestSettings.resolve(parameters: ["domain": "web1", "saved_state": "/srv/saved",
                                                       "snapshot": "/srv/saved"]).savedState == .directory("/srv/saved"))
        for bad in [["saved_state": "relative/dir"], ["saved_state": "/a", "snapshot": "/b"],
                    ["saved_state": "managed", "snapshot": "/b"], ["snapshot": "relative"]] {
            var p = bad
            p["domain"] = "web1"
            #expect(throws: ConfigError.self, "\(bad)") { try GuestSettings.resolve(parameters: p) }
        }
    }

    @Test("a file with Windows line ends reads as its lines (found by fuzzing)")
    func crlfLineEnds() throws {
        let file = try ConfigFile.parse("[global]\r\nreadiness = none\r\nstop_timeout = 30\r\n", path: "w.conf")
        #expect(file.entries(of: "global").map(\.key) == ["readiness", "stop_timeout"])
        #expect(file.entries(of: "global").first?.value == "none")
        #expect(file.entries(of: "global").last?.line == 3)
    }

    @Test("an empty directory setting means its default, never a crash; a relative one is an error naming it")
    func emptyDirectorySettings() throws {
        for key in ["lock_dir", "state_dir", "quarantine_dir", "managed_save_dir"] {
            let s = try GuestSettings.resolve(parameters: ["domain": "web1", key: ""], parameterPrefix: "OCF_RESKEY_")
            let value = [s.lockDirectory, s.stateDirectory, s.quarantineDirectory, s.managedSaveDirectory]
            #expect(value.contains(Parameters.named(key)!.defaultValue), "\(key)")
            do {
                _ = try GuestSettings.resolve(parameters: ["domain": "web1", key: "tmp/x"], parameterPrefix: "OCF_RESKEY_")
                Issue.record("\(key)=tmp/x was accepted")
            } catch {
                #expect("\(error)".contains("OCF_RESKEY_\(key)") && "\(error)".contains("absolute"), "\(error)")
            }
        }
    }

    @Test("a provenance record judges its image: generation, UUID, disks")
    func verdicts() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmm-verdict-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let disk = "\(dir)/disk.img"
        try Data(count: 4096).write(to: URL(fileURLWithPath: disk))
        let uuid = UUID()
        let stamp = try #require(DiskStamp.of(disk))
        let provenance = Provenance(guest: "g", uuid: uuid, node: "n1", savedAt: Date(), generation: 3, disks: [stamp])
        func image(_ p: Provenance?) -> SavedImage {
            SavedImage(path: "\(dir)/g.state", provenancePath: "\(dir)/g.state.json", provenance: p, sizeBytes: 1,
                       modified: Date(), isConflictCopy: false, isManagedSave: false)
        }
        let gen3 = GenerationRecord(generation: 3, uuid: uuid, node: "n1", how: "booted", at: Date())
        let gen4 = GenerationRecord(generation: 4, uuid: uuid, node: "n2", how: "booted", at: Date())
        #expect(image(provenance).verdict(uuid: uuid, generation: gen3) == .current)
        #expect(!image(provenance).verdict(uuid: uuid, generation: gen4).isCurrent)
        #expect(!image(provenance).verdict(uuid: UUID(), generation: gen3).isCurrent)
        #expect(!image(nil).verdict(uuid: uuid, generation: gen3).isCurrent)
        try Data(count: 8192).write(to: URL(fileURLWithPath: disk))
        guard case .stale(let why) = image(provenance).verdict(uuid: uuid, generation: gen3) else {
            Issue.record("a disk written after the save must make the image stale")
            return
        }
        #expect(why.contains("disk.img was written after the image was saved"), "\(why)")
    }
}
