import Foundation
import Testing
@testable import Libvirt

/// The binding against libvirt's own in-process `test:///default` driver: no daemon needed.
@Suite("Connection (test:///default)")
struct ConnectionTests {
    @Test func opensAndReportsHost() async throws {
        let c = try await Connection.open("test:///default")
        #expect(c.uri == "test:///default")
        #expect(try await c.canonicalURI() == "test:///default")
        #expect(try await !c.hostname().isEmpty)
        #expect(try await c.libvirtVersion() >= 9_000_000)
        #expect(await c.isAlive())
        try await c.close()
        try await c.close()  // idempotent
    }

    @Test func closedConnectionRefusesCalls() async throws {
        let c = try await Connection.open("test:///default")
        try await c.close()
        let error = await #expect(throws: LibvirtError.self) { _ = try await c.hostname() }
        #expect(error?.code == .connectionClosed)
    }

    @Test func unknownDriverIsATypedError() async throws {
        let error = await #expect(throws: LibvirtError.self) {
            _ = try await Connection.open("nosuchdriver:///system")
        }
        // libvirt answers VIR_ERR_NO_CONNECT or VIR_ERR_SYSTEM_ERROR depending on how far it got.
        #expect(error.map { [.noConnect, .systemError].contains($0.code) } == true, "\(String(describing: error))")
        #expect(error?.message.isEmpty == false)
        #expect(error?.description.contains("virConnectOpen") == true)
    }

    @Test func missingDomainIsNoDomainWithLibvirtsMessage() async throws {
        let c = try await Connection.open("test:///default")
        let error = await #expect(throws: LibvirtError.self) { _ = try await c.lookupDomain(name: "no-such-guest") }
        #expect(error?.code == .noDomain)
        #expect(error?.isNoDomain == true)
        #expect(error?.message.isEmpty == false)
        #expect(error?.target == "no-such-guest")
        #expect(error?.operation == "virDomainLookupByName")
        #expect(try await c.domainIfExists(name: "no-such-guest") == nil)
    }

    /// libvirt prints errors to stderr by default; an OCF agent's stderr is read by the cluster
    /// manager, so the binding must keep it silent.
    @Test func libvirtPrintsNothingOnError() async throws {
        let c = try await Connection.open("test:///default")
        let output = try await capturingStandardError {
            _ = try? await c.lookupDomain(name: "still-no-such-guest")
            _ = try? await Connection.open("nosuchdriver:///system")
            _ = try? await c.defineDomain(xml: "<domain><broken")
        }
        // The test runner itself writes to stderr from parallel tests; libvirt's own printer writes
        // lines of the form "libvirt: <origin> error : <message>".
        let printedByLibvirt = output.split(separator: "\n").filter {
            $0.contains("libvirt: ") || $0.contains(" error : ")
        }
        #expect(printedByLibvirt.isEmpty, "libvirt printed: \(printedByLibvirt)")
    }

    /// On a test driver of its own (`test:///<file>`: every connection to a file gets private state), so the
    /// domains other tests define, start and stop on `test:///default` in parallel cannot change the answers.
    @Test func listsDomainsWithFilters() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmm-list-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // test:runstate is a virDomainState: 1 running, 3 paused, 5 shut off.
        func domain(_ name: String, runstate: Int) -> String {
            """
            <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
              <name>\(name)</name><memory>65536</memory><os><type>hvm</type></os>
              <test:runstate>\(runstate)</test:runstate>
            </domain>
            """
        }
        let node =
            "<node>\n"
            + [
                domain("running", runstate: 1), domain("paused", runstate: 3),
                domain("off", runstate: 5),
            ].joined(separator: "\n") + "\n</node>\n"
        try node.write(toFile: "\(dir)/node.xml", atomically: true, encoding: .utf8)

        let c = try await Connection.open("test://\(dir)/node.xml")
        _ = try await c.createTransientDomain(
            xml: """
                <domain type='test'><name>transient</name><memory>65536</memory><os><type>hvm</type></os></domain>
                """)
        func names(_ filter: DomainListFilter = []) async throws -> Set<String> {
            Set(try await c.domains(filter).map(\.name))
        }
        #expect(try await names() == ["running", "paused", "off", "transient"])
        #expect(try await names(.active) == ["running", "paused", "transient"])
        #expect(try await names(.inactive) == ["off"])
        #expect(try await names(.running) == ["running", "transient"])
        #expect(try await names(.paused) == ["paused"])
        #expect(try await names(.shutOff) == ["off"])
        #expect(try await names(.persistent) == ["running", "paused", "off"])
        #expect(try await names(.transient) == ["transient"])
        #expect(try await names([.active, .persistent]) == ["running", "paused"])
        let active = try await c.domains(.active)
        #expect(try await active.asyncAllSatisfy { try await $0.isActive() })
        #expect(try await c.domains(.inactive).asyncAllSatisfy { try await !$0.isActive() })
        try await c.close()
    }
}

extension Array {
    func asyncAllSatisfy(_ p: (Element) async throws -> Bool) async rethrows -> Bool {
        for e in self where try await !p(e) { return false }
        return true
    }
}

/// Runs `body` with file descriptor 2 redirected to a temporary file and returns what was written.
func capturingStandardError(_ body: () async throws -> Void) async throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)").path
    let fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600)
    let saved = dup(2)
    fflush(nil)
    dup2(fd, 2)
    defer {
        fflush(nil)
        dup2(saved, 2)
        close(saved)
        close(fd)
    }
    try await body()
    fflush(nil)
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(atPath: path)
    return text
}
