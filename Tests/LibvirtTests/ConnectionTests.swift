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
        let printedByLibvirt = output.split(separator: "\n").filter { $0.contains("libvirt: ") || $0.contains(" error : ") }
        #expect(printedByLibvirt.isEmpty, "libvirt printed: \(printedByLibvirt)")
    }

    @Test func listsDomainsWithFilters() async throws {
        let c = try await Connection.open("test:///default")
        let all = try await c.domains()
        #expect(all.contains { $0.name == "test" })
        let active = try await c.domains(.active)
        #expect(active.allSatisfy { _ in true })
        #expect(try await active.asyncAllSatisfy { try await $0.isActive() })
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
