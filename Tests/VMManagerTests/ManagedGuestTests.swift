import Foundation
import Testing
@testable import VMManager

@Suite("Which guest a resource manages")
struct ManagedGuestTests {
    func controller(_ parameters: [String: String], instance: String? = "vm-web1") throws -> GuestController {
        let settings = try GuestSettings.resolve(parameters: parameters, ignoringConfigFile: true)
        return GuestController(
            settings: settings, reporter: CollectingReporter(), logger: .init(label: "test"),
            resourceInstance: instance)
    }

    @Test("the XML names the guest; without it the configured domain, else the one an earlier start remembered")
    func resolution() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmm-guest-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let xml = "\(dir)/web1.xml"
        try "<domain type='kvm'><name>web1</name><memory>65536</memory></domain>".write(
            toFile: xml, atomically: true,
            encoding: .utf8)
        let fromXML = try #require(try controller(["config": xml, "state_dir": dir]).managedGuest(strict: true))
        #expect(fromXML.name == "web1" && fromXML.definition?.name == "web1" && fromXML.definitionPath == xml)

        let named = try #require(try controller(["domain": "db1", "state_dir": dir]).managedGuest(strict: true))
        #expect(named.name == "db1" && named.definition == nil && named.definitionPath == nil)

        // Nothing configured: only what an earlier start of this resource remembered.
        let bare = try controller(["state_dir": dir])
        #expect(try bare.managedGuest() == nil)
        #expect((try? bare.requiredGuest()) == nil)
        bare.memory.remember("web1")
        bare.memory.rememberConfig("web1", xml)
        let remembered = try #require(try bare.managedGuest())
        #expect(remembered.name == "web1" && remembered.definitionPath == xml)
        #expect(try bare.managedGuest(remembered: false) == nil)

        // The XML gone: a start refuses, stop and monitor go on with the name.
        try FileManager.default.removeItem(atPath: xml)
        let gone = try controller(["config": xml, "domain": "web1", "state_dir": dir])
        let error = #expect(throws: VMError.self) { _ = try gone.managedGuest(strict: true) }
        #expect(error?.code == .notInstalled)
        #expect(try gone.managedGuest()?.name == "web1")
    }
}
