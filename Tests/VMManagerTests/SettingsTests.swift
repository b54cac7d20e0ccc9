import Foundation
import IntegrationSupport
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

    @Test("a container's stop chain: shutdown, destroy by default; 'save' in it is refused with the reason")
    func containerStopChain() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmm-lxc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let xml = "\(dir)/web1.xml"
        try
            "<domain type='lxc'><name>web1</name><memory>65536</memory><os><type>exe</type><init>/sbin/init</init></os></domain>"
            .write(toFile: xml, atomically: true, encoding: .utf8)
        let empty = try write("")
        let byDefault = try GuestSettings.resolve(parameters: ["conf_file": empty, "config": xml])
        #expect(byDefault.stopMethods == [.shutdown, .destroy])
        let explicit = try write("[guest web1]\nstop_methods = save,destroy\n")
        #expect {
            _ = try GuestSettings.resolve(parameters: ["conf_file": explicit, "config": xml])
        } throws: { error in
            "\(error)".contains("stop_methods") && "\(error)".contains("container (libvirt LXC)")
                && "\(error)".contains("use shutdown,destroy")
        }
        // Lenient (stop and monitor go on): the container's default chain, and the problem reported.
        let lenient = try GuestSettings.resolve(
            parameters: ["conf_file": explicit, "config": xml], lenient: true)
        #expect(lenient.stopMethods == [.shutdown, .destroy])
        #expect(lenient.problems.count == 1)
        // No XML: an lxc:// hypervisor says container.
        let byURI = try GuestSettings.resolve(parameters: [
            "conf_file": empty, "domain": "c1", "hypervisor": "lxc:///system",
        ])
        #expect(byURI.stopMethods == [.shutdown, .destroy])
        let vm = try GuestSettings.resolve(parameters: ["conf_file": empty, "domain": "c1"])
        #expect(vm.stopMethods == [.save, .shutdown, .destroy])
    }

    @Test("readiness exec:COMMAND is a container's: parsed for one, refused with the alternatives for a VM")
    func execReadinessIsForContainers() throws {
        let empty = try write("")
        let container = try GuestSettings.resolve(parameters: [
            "conf_file": empty, "domain": "c1", "hypervisor": "lxc:///system", "readiness": "exec:test -e /run/ready",
        ])
        #expect(container.readiness == .probe(.command("test -e /run/ready")))
        #expect(ReadinessProbe.command("test -e /run/ready").description == "exec:test -e /run/ready")
        #expect(throws: ReadinessSetting.ParseError.self) { try ReadinessSetting.parse("exec:  ") }
        #expect {
            _ = try GuestSettings.resolve(parameters: ["conf_file": empty, "domain": "vm1", "readiness": "exec:true"])
        } throws: { error in
            "\(error)".contains("readiness") && "\(error)".contains("guest vm1 is a VM")
                && "\(error)".contains("guest-agent")
        }
    }

    @Test("priority: defaults < [global] < [guest NAME] < agent parameters")
    func priority() throws {
        let path = try write(
            """
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
        let overridden = try GuestSettings.resolve(parameters: [
            "conf_file": path, "domain": "web1", "readiness": "uptime:60/15",
        ])
        #expect(overridden.readiness == .probe(.uptime(coldBoot: .seconds(60), resumed: .seconds(15))))
        #expect(
            try GuestSettings.resolve(parameters: ["conf_file": path, "domain": "web1", "force_stop": "yes"])
                .stopMethods
                == [.destroy])
    }

    @Test("errors name the file, line and key, or the parameter")
    func errors() throws {
        let path = try write("[global]\nreadiness = auto\n\n[guest web1]\nstop_methods = save,reboot\n")
        let e = #expect(throws: ConfigError.self) {
            _ = try GuestSettings.resolve(parameters: ["conf_file": path, "domain": "web1"])
        }
        #expect(
            e?.description.hasSuffix(
                "\(path):5: stop_methods: 'save,reboot': unknown method 'reboot'; use save, shutdown and destroy")
                == true,
            "\(String(describing: e))")
        let p = #expect(throws: ConfigError.self) {
            _ = try GuestSettings.resolve(
                parameters: ["conf_file": path, "domain": "x", "migration_speed": "fast"],
                parameterPrefix: "OCF_RESKEY_")
        }
        #expect(p?.description.contains("OCF_RESKEY_migration_speed") == true)
        let syntax = #expect(throws: ConfigError.self) {
            _ = try ConfigFile.parse("[global]\nnot a line\n", path: "f.conf")
        }
        // The line itself is never quoted: conf_file may name a file that is not ours to show.
        #expect(syntax?.description == "f.conf:2: expected 'key = value', a [section] or a # comment")
        let dup = #expect(throws: ConfigError.self) {
            _ = try ConfigFile.parse("[guest a]\n[guest a]\n", path: "f.conf")
        }
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
        let m = MigrationSettings(
            transport: "ssh", user: "admin", networkSuffix: "-mig", migrateURI: nil,
            remoteURI: nil, downtimeMilliseconds: 0, speedMiBPerSecond: 0)
        #expect(m.remoteURI(for: "node2", hypervisor: "qemu:///system") == "qemu+ssh://admin@node2-mig/system")
        #expect(m.dataURI(for: "node2") == "tcp:node2-mig")
        let t = MigrationSettings(
            transport: nil, user: nil, networkSuffix: nil, migrateURI: "tcp:%n:49152",
            remoteURI: "qemu+tls://%n/system", downtimeMilliseconds: 0, speedMiBPerSecond: 0)
        #expect(t.remoteURI(for: "b", hypervisor: "qemu:///system") == "qemu+tls://b/system")
        #expect(t.dataURI(for: "b") == "tcp:b:49152")
    }

    @Test(
        "migrateport and --migrateuri build the data URI in VirtualDomain's order; an FQDN gets the suffix after its first label"
    )
    func migratePortAndOptionsURI() throws {
        var m = MigrationSettings(
            transport: "tcp", user: nil, networkSuffix: "-mig", migrateURI: nil,
            remoteURI: nil, downtimeMilliseconds: 0, speedMiBPerSecond: 0)
        m.port = 49200
        #expect(m.dataURI(for: "bravo") == "tcp:bravo-mig:49200")
        #expect(
            m.remoteURI(for: "bravo.lab.example", hypervisor: "qemu:///system")
                == "qemu+tcp://bravo-mig.lab.example/system")
        #expect(m.dataURI(for: "bravo.lab.example") == "tcp:bravo-mig.lab.example:49200")
        var plain = MigrationSettings(
            transport: nil, user: nil, networkSuffix: nil, migrateURI: nil, remoteURI: nil,
            downtimeMilliseconds: 0, speedMiBPerSecond: 0)
        #expect(plain.dataURI(for: "bravo") == nil)
        plain.port = 49160
        #expect(plain.dataURI(for: "bravo") == "tcp:bravo:49160")
        plain.options = try MigrateOptions.parse("--migrateuri=tcp://%n-fast")
        #expect(plain.dataURI(for: "bravo") == "tcp:bravo-fast:49160")
        plain.options = try MigrateOptions.parse("--migrateuri tcp:%n-fast:50000")
        #expect(plain.dataURI(for: "bravo") == "tcp:bravo-fast:50000")
        let given = MigrationSettings(
            transport: nil, user: nil, networkSuffix: nil, migrateURI: "tcp:%n-x",
            remoteURI: nil, downtimeMilliseconds: 0, speedMiBPerSecond: 0,
            options: try MigrateOptions.parse("--migrateuri=tcp:%n-y"))
        #expect(given.dataURI(for: "b") == "tcp:b-x", "migrateuri wins over --migrateuri, as in VirtualDomain")
    }

    @Test("migrate_options: the options users put there become the API's flags; an unknown one is an error naming it")
    func migrateOptionsParse() throws {
        let o = try MigrateOptions.parse(
            "--live --p2p --tunnelled --compressed --auto-converge --postcopy --unsafe "
                + "--tls --parallel-connections=4 --copy-storage-inc --bandwidth 200 "
                + "--timeout=30 --listen-address 10.0.0.2 --abort-on-error --verbose")
        #expect(o.peerToPeer && o.tunnelled && o.compressed && o.autoConverge && o.postcopy && o.unsafe && o.tls)
        #expect(o.parallelConnections == 4 && o.copyStorage == .incremental && o.bandwidthMiBPerSecond == 200)
        #expect(o.suspendAfterSeconds == 30 && o.listenAddress == "10.0.0.2")
        #expect(try MigrateOptions.parse("") == MigrateOptions())
        #expect(try MigrateOptions.parse("--parallel").parallelConnections == 2)
        for (bad, says) in [
            ("--frobnicate", "unknown option --frobnicate"),
            ("--undefinesource", "--undefinesource is refused"),
            ("--dname other", "--dname is refused"),
            ("--tunnelled", "--tunnelled needs --p2p"),
            ("--bandwidth", "--bandwidth needs a value"),
            ("--bandwidth fast", "--bandwidth needs a whole number"),
            ("--p2p=yes", "--p2p takes no value"),
            ("p2p", "is not an option"),
        ] {
            #expect(throws: ConfigError.self) { try MigrateOptions.parse(bad) }
            do { _ = try MigrateOptions.parse(bad) } catch {
                #expect(error.message.contains(says), "\(bad): \(error.message)")
            }
        }
        // Through the settings: the error names the parameter, and resolving fails (validate-all: 6).
        #expect(throws: ConfigError.self) {
            try GuestSettings.resolve(parameters: ["domain": "web1", "migrate_options": "--live --frobnicate"])
        }
        let s = try GuestSettings.resolve(parameters: [
            "domain": "web1", "migrate_options": "--p2p --unsafe",
            "migrateport": "49155",
        ])
        #expect(s.migration.options.peerToPeer && s.migration.options.unsafe && s.migration.port == 49155)
        #expect(throws: ConfigError.self) {
            try GuestSettings.resolve(parameters: ["domain": "w", "migrateport": "70000"])
        }
    }

    @Test("docs/agent.md documents every parameter of the table")
    func docsCoverEveryParameter() throws {
        let doc = try String(contentsOfFile: Self.root + "/docs/agent.md", encoding: .utf8)
        for p in Parameters.all { #expect(doc.contains("`\(p.name)`"), "docs/agent.md lacks \(p.name)") }
        for c in Parameters.refusedFromVirtualDomain {
            #expect(doc.contains("`\(c.name)`"), "docs/agent.md lacks \(c.name)")
        }
    }
}

@Suite("Saved-state settings")
struct SavedStateSettingsTests {
    @Test("saved_state: auto by default, managed, or an absolute directory; snapshot is its VirtualDomain name")
    func savedStateSetting() throws {
        #expect(try GuestSettings.resolve(parameters: ["domain": "web1"]).savedState == .auto)
        #expect(
            try GuestSettings.resolve(parameters: ["domain": "web1", "saved_state": "managed"]).savedState == .managed)
        #expect(
            try GuestSettings.resolve(parameters: ["domain": "web1", "snapshot": "/srv/saved"]).savedState
                == .directory("/srv/saved"))
        #expect(
            try GuestSettings.resolve(parameters: [
                "domain": "web1", "saved_state": "/srv/saved",
                "snapshot": "/srv/saved",
            ]).savedState == .directory("/srv/saved"))
        for bad in [
            ["saved_state": "relative/dir"], ["saved_state": "/a", "snapshot": "/b"],
            ["saved_state": "managed", "snapshot": "/b"], ["snapshot": "relative"],
        ] {
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
                _ = try GuestSettings.resolve(
                    parameters: ["domain": "web1", key: "tmp/x"], parameterPrefix: "OCF_RESKEY_")
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
            SavedImage(
                path: "\(dir)/g.state", provenancePath: "\(dir)/g.state.json", provenance: p, sizeBytes: 1,
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

@Suite("A drop-in for VirtualDomain")
struct VirtualDomainDropInTests {
    /// The parameters of the installed resource-agents' VirtualDomain, from its own meta-data.
    static func virtualDomainParameters() throws -> [String] {
        let agent = "/usr/lib/ocf/resource.d/heartbeat/VirtualDomain"
        let text = try run(
            agent, ["meta-data"],
            environment: [
                "OCF_ROOT": "/usr/lib/ocf",
                "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            ]
        ).stdout
        return text.matches(of: /<parameter name="([a-z_]+)"/).map { String($0.output.1) }
    }

    @Test("every parameter of VirtualDomain's own meta-data is honoured or refused, none accepted and ignored")
    func everyParameterHonouredOrRefused() throws {
        let theirs = try Self.virtualDomainParameters()
        #expect(theirs.count >= 25, "VirtualDomain's meta-data: \(theirs)")
        for name in theirs {
            let honoured = Parameters.named(name)
            let refused = Parameters.refusedNames.contains(name)
            #expect(honoured != nil || refused, "\(name): neither in the parameter table nor refused")
            if let honoured {
                #expect(honoured.fromVirtualDomain, "\(name) is in the table but not marked as VirtualDomain's")
            }
        }
        // Refused ones fail validation when set (the start path throws the same message).
        for name in Parameters.refusedNames {
            let s = try GuestSettings.resolve(parameters: [
                "domain": "web1", name: "/var/lib/libvirt/images/base.qcow2",
            ])
            #expect(s.refused.contains { $0.hasPrefix("\(name) is set but not supported") }, "\(name): \(s.refused)")
        }
        let s = try GuestSettings.resolve(parameters: ["domain": "web1", "stateless": "false"])
        #expect(s.refused.isEmpty, "an unset or false refused parameter is fine")
    }

    @Test(
        "VirtualDomain's defaults: utilization pushed for cpu and both memories; sync_config_on_stop implies save_config_on_stop"
    )
    func defaultsAsVirtualDomain() throws {
        let d = try GuestSettings.resolve(parameters: ["domain": "web1"])
        #expect(d.utilization == ["cpu": true, "host_memory": true, "hv_memory": true])
        #expect(!d.saveConfigOnStop && !d.syncConfigOnStop && !d.startResources)
        let u = try GuestSettings.resolve(parameters: [
            "domain": "web1", "autoset_utilization_cpu": "false",
            "unset_utilization_cpu": "true",
            "autoset_utilization_hv_memory": "false",
        ])
        #expect(u.utilization == ["cpu": false, "host_memory": true])
        let sync = try GuestSettings.resolve(parameters: ["domain": "web1", "sync_config_on_stop": "true"])
        #expect(sync.saveConfigOnStop && sync.syncConfigOnStop)
        #expect(throws: ConfigError.self) {
            try GuestSettings.resolve(parameters: ["domain": "w", "start_resources": "maybe"])
        }
    }
}
