import Foundation
import IntegrationSupport
import Libvirt
import Logging
import Testing
import VMManager

/// Real QEMU guests (TCG) on the real testbed. Serialized: two cores do not boot many guests at once.
@Suite("Real guests on the testbed", .serialized, .enabled(if: Testbed.isRequested, "run through `make test`"))
struct GuestLifecycleTests {
    let testbed: Testbed
    let host: Hypervisor

    init() async throws {
        testbed = try Testbed.load()
        host = try await Hypervisor.connect(testbed.nodeA, timeout: .seconds(60))
    }

    @Test("the guest agent answers after start --wait, and the guest printed its readiness line")
    func agentAnswersAfterStart() async throws {
        let d = try await testbed.freshGuest("agent", on: host)
        let outcome = try await host.start(d, readiness: .guestAgent, timeout: .seconds(90))
        #expect(outcome.how == .booted)
        let ready = try #require(outcome.readyAfter)
        #expect(ready > .zero && ready < .seconds(90))
        try await d.pingAgent()
        // The guest's own console confirms it booted: the agent did not answer by accident.
        let console = try testbed.value("CONSOLE_DIR") + "/\(d.name).log"
        // The guest prints the marker right after it starts its agent: allow the console a moment to catch up.
        var log = ""
        for _ in 0..<20 {
            log = try String(contentsOfFile: console, encoding: .utf8)
            if log.contains(try testbed.value("READY_MARKER")) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(log.contains(try testbed.value("READY_MARKER")))
        // start is idempotent.
        #expect(try await host.start(d, readiness: .guestAgent, timeout: .seconds(30)).how == .alreadyRunning)
        try await Testbed.remove(d.name, from: host.connection)
    }

    @Test("managed save then restore: the guest resumes, its uptime continues")
    func managedSaveKeepsUptime() async throws {
        let d = try await testbed.freshGuest("msave", on: host)
        _ = try await host.start(d, readiness: .guestAgent, timeout: .seconds(90))
        try await Task.sleep(for: .seconds(2))
        let before = try await GuestUptime.read(d)
        let stop = try await host.stop(d)
        #expect(stop.method == .save && !stop.escalated)
        #expect(try await d.hasManagedSaveImage())
        #expect(try await d.state().isShutOffSaved)
        let start = try await host.start(d, readiness: .guestAgent, timeout: .seconds(60))
        #expect(start.how == .restored)
        #expect(try await d.state().isRunningRestored)
        #expect(try await !d.hasManagedSaveImage())
        let after = try await GuestUptime.read(d)
        // A rebooted guest would be back near zero; a resumed one carries on from where it was saved.
        #expect(after >= before, "uptime went from \(before) to \(after): the guest rebooted")
        try await Testbed.remove(d.name, from: host.connection)
    }

    @Test("a guest that ignores the shutdown request is destroyed inside the stop budget")
    func stopChainEscalatesToDestroy() async throws {
        let d = try await testbed.freshGuest("escalate", on: host)
        _ = try await host.start(d, readiness: .guestAgent, timeout: .seconds(90))
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = try await host.stop(d, policy: StopPolicy(methods: [.shutdown, .destroy], timeout: .seconds(8)))
        #expect(outcome.method == .destroy && outcome.escalated)
        #expect(clock.now - started < .seconds(9))
        #expect(try await !d.isActive())
        // Stopping a stopped guest succeeds and does nothing.
        #expect(try await host.stop(d).method == nil)
        try await Testbed.remove(d.name, from: host.connection)
    }

    @Test("lifecycle and agent events arrive from the real daemon")
    func eventsFromARealGuest() async throws {
        let d = try await testbed.freshGuest("events", on: host)
        let events = try await host.connection.events()
        _ = try await host.start(d, readiness: .none, timeout: .seconds(30))
        var sawStarted = false
        var sawAgent = false
        let deadline = ContinuousClock.now + .seconds(90)
        for await event in events where event.domainName == d.name {
            switch event.kind {
            case .lifecycle(let l) where l.type == .started && l.detailName == "booted": sawStarted = true
            case .agent(connected: true, _): sawAgent = true
            default: break
            }
            if (sawStarted && sawAgent) || ContinuousClock.now > deadline { break }
        }
        #expect(sawStarted && sawAgent)
        try await Testbed.remove(d.name, from: host.connection)
    }

    @Test("libvirt errors from the real daemon are typed and carry libvirt's message")
    func typedErrorsFromTheDaemon() async throws {
        let error = await #expect(throws: LibvirtError.self) {
            _ = try await host.connection.lookupDomain(name: "it-does-not-exist")
        }
        #expect(error?.code == .noDomain && error?.origin == .qemu || error?.code == .noDomain)
        #expect(error?.message.contains("it-does-not-exist") == true)
        let d = try await testbed.freshGuest("invalid", on: host)
        let invalid = await #expect(throws: LibvirtError.self) { try await d.suspend() }
        #expect(invalid?.code == .operationInvalid)
        #expect(invalid?.message.contains("not running") == true)
        try await Testbed.remove(d.name, from: host.connection)
    }

    @Test("define refuses a MAC that another guest already uses")
    func duplicateMACIsRefused() async throws {
        let first = try await testbed.freshGuest("mac1", on: host)
        let def = try DomainDefinition(xml: try await first.xml(.inactive))
        let mac = try #require(def.interfaces.first?.mac)
        try await Testbed.remove("it-mac2", from: host.connection)
        let copy = try DomainDefinition(xml: try testbed.guestXML("it-mac2")).settingMAC(mac, forInterfaceAt: 0)
        let error = await #expect(throws: VMError.self) { _ = try await host.define(xml: copy.xml, pinIdentity: true) }
        #expect(error?.code == .refused)
        #expect(error?.message.contains(mac.description) == true)
        #expect(try await host.connection.domainIfExists(name: "it-mac2") == nil)
        try await Testbed.remove(first.name, from: host.connection)
    }
}
