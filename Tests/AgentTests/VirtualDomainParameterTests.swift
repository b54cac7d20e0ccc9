import Foundation
import IntegrationSupport
import Libvirt
import Testing
import VMManager

/// VirtualDomain's parameters that reach outside libvirt's domain calls, on real guests: the admin's
/// monitor scripts, migrate_options, and the storage pools start_resources starts.
@Suite(
    "VirtualDomain's parameters on real guests", .serialized,
    .enabled(if: Testbed.isRequested, "run through `make test`"))
struct VirtualDomainParameterTests {
    let testbed: Testbed
    let host: Hypervisor

    init() async throws {
        testbed = try Testbed.load()
        host = try await Hypervisor.connect(testbed.nodeA, timeout: .seconds(60))
    }

    func guest(
        _ label: String, xmlEdit: (String) -> String = { $0 }
    ) async throws
        -> (name: String, parameters: [String: String], dir: String)
    {
        let name = "it-vd-\(label)"
        try await Testbed.remove(name, from: host.connection)
        let dir = try scratchDirectory("vd-\(label)")
        try xmlEdit(try testbed.guestXML(name)).write(toFile: "\(dir)/\(name).xml", atomically: true, encoding: .utf8)
        try "# defaults\n".write(toFile: "\(dir)/vmmanager.conf", atomically: true, encoding: .utf8)
        return (
            name,
            [
                "config": "\(dir)/\(name).xml", "state_dir": "\(dir)/state", "lock_dir": "\(dir)/locks",
                "quarantine_dir": "\(dir)/quarantine", "conf_file": "\(dir)/vmmanager.conf",
            ], dir
        )
    }

    func script(_ dir: String, _ name: String, _ body: String) throws -> String {
        let path = "\(dir)/\(name)"
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test(
        "monitor_scripts: run after the state says running; the first failure fails the monitor with its output; a hung one is killed within the timeout"
    )
    func monitorScripts() async throws {
        let g = try await guest("scripts")
        let ok = try script(g.dir, "ok.sh", "echo fine; exit 0")
        let fail = try script(g.dir, "db.sh", "echo 'db: connection refused'; exit 3")
        let hang = try script(g.dir, "hang.sh", "sleep 120 & sleep 120")
        var p = g.parameters
        p["monitor_scripts"] = ok
        p["readiness"] = "monitor-scripts"
        let start = try runOCF("start", p)
        #expect(start.status == 0, "\(start.stderr)")
        #expect(try runOCF("monitor", p).status == 0)

        p["monitor_scripts"] = "\(ok) \(fail) \(hang)"
        let failed = try runOCF("monitor", p)
        #expect(failed.status == 1)
        #expect(
            failed.stderr.contains(
                "Monitor command \"\(fail)\" for domain \(g.name) returned 3 with output: db: connection refused"),
            "\(failed.stderr)")

        p["monitor_scripts"] = hang
        let clock = ContinuousClock()
        let began = clock.now
        let hung = try runOCF("monitor", p, meta: ["timeout": "5000"])
        let took = clock.now - began
        #expect(hung.status == 1 && hung.stderr.contains("did not finish"), "\(hung.stderr)")
        #expect(took < .seconds(5), "the monitor took \(took), beyond its 5 s timeout")

        p["monitor_scripts"] = "\(g.dir)/missing.sh"
        let validate = try runOCF("validate-all", p)
        #expect(validate.status == 5 && validate.stderr.contains("missing.sh"), "\(validate.stderr)")
        #expect(try runOCF("stop", g.parameters, meta: ["timeout": "30000"]).status == 0)
        try await Testbed.remove(g.name, from: host.connection)
    }

    @Test(
        "migrate_options: an unknown option is error 6 naming it; --p2p --auto-converge migrate to node B through the source daemon"
    )
    func migrateOptions() async throws {
        let g = try await guest("migopts")
        var p = g.parameters
        p["migrate_options"] = "--live --frobnicate"
        let bad = try runOCF("validate-all", p)
        #expect(bad.status == 6 && bad.stderr.contains("--frobnicate"), "\(bad.stderr)")
        #expect(try runOCF("start", p).status == 6)

        let nodeBURI = try testbed.nodeB()
        let nodeB = try await Hypervisor.connect(nodeBURI, timeout: .seconds(60))
        try await Testbed.remove(g.name, from: nodeB.connection)
        #expect(try runOCF("start", g.parameters).status == 0)
        p["migrate_options"] = "--p2p --auto-converge --verbose"
        p["remoteuri"] = nodeBURI
        p["migrateuri"] = try testbed.nodeBMigrateURI()
        let to = try runOCF("migrate_to", p, meta: ["migrate_target": "nodeB", "timeout": "60000"])
        #expect(to.status == 0, "\(to.stderr)")
        let there = try await nodeB.connection.lookupDomain(name: g.name)
        #expect(try await there.isActive())
        try await Testbed.remove(g.name, from: nodeB.connection)
        try await Testbed.remove(g.name, from: host.connection)
    }

    @Test(
        "start_resources: an inactive storage pool the guest's disk uses is started first; without it the start fails")
    func startResourcesStartsAPool() async throws {
        let pool = "it-vd-pool"
        let dir = try scratchDirectory("vd-pool")
        _ = FileManager.default.createFile(atPath: "\(dir)/data.img", contents: Data(count: 1 << 20))
        if let old = try? await host.connection.isActive(.storagePool(pool)) {
            _ = old
            _ = try? run("/usr/bin/virsh", ["-c", testbed.nodeA, "pool-destroy", pool])
            _ = try? run("/usr/bin/virsh", ["-c", testbed.nodeA, "pool-undefine", pool])
        }
        let poolXML = "\(dir)/pool.xml"
        try "<pool type='dir'><name>\(pool)</name><target><path>\(dir)</path></target></pool>"
            .write(toFile: poolXML, atomically: true, encoding: .utf8)
        #expect(try run("/usr/bin/virsh", ["-c", testbed.nodeA, "pool-define", poolXML]).status == 0)
        defer {
            _ = try? run("/usr/bin/virsh", ["-c", testbed.nodeA, "pool-destroy", pool])
            _ = try? run("/usr/bin/virsh", ["-c", testbed.nodeA, "pool-undefine", pool])
        }
        let g = try await guest("pool") { xml in
            xml.replacing(
                "<devices>",
                with: "<devices><disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
                    + "<source pool='\(pool)' volume='data.img'/><target dev='vdb' bus='virtio'/></disk>")
        }
        #expect(try await host.connection.isActive(.storagePool(pool)) == false)
        let without = try runOCF("start", g.parameters)
        #expect(without.status != 0, "a guest whose pool is inactive should not start without start_resources")
        var p = g.parameters
        p["start_resources"] = "true"
        let start = try runOCF("start", p)
        #expect(start.status == 0, "\(start.stderr)")
        #expect(try await host.connection.isActive(.storagePool(pool)) == true)
        #expect(try runOCF("stop", p, meta: ["timeout": "30000"]).status == 0)
        try await Testbed.remove(g.name, from: host.connection)
    }
}
