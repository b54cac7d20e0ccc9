import Foundation
import Libvirt
import Testing
import VMManager

/// The real testbed that `make testbed` brings up: libvirtd on this machine (node A), a second
/// libvirtd in its own namespaces (node B), and a tiny guest image with a QEMU guest agent.
///
/// `make test` sets VMMANAGER_TESTBED to the testbed's env file; then a missing testbed fails the
/// tests instead of skipping them. Without it (a plain `swift test`), the integration tests are skipped.
struct Testbed: Sendable {
    let values: [String: String]

    static let envFile = ProcessInfo.processInfo.environment["VMMANAGER_TESTBED"]
    static let isRequested = envFile != nil

    static func load() throws -> Testbed {
        let path = try #require(envFile, "VMMANAGER_TESTBED is not set")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return Testbed(values: values)
    }

    func value(_ key: String) throws -> String {
        try #require(values[key], "testbed.env has no \(key)")
    }

    var nodeA: String { values["NODE_A_URI"] ?? "qemu:///system" }
    func nodeB() throws -> String { try value("NODE_B_URI") }
    func nodeBMigrateURI() throws -> String { try value("NODE_B_MIGRATE_URI") }

    /// A domain XML for a test guest named `name` (no UUID, no MAC: as a user would write it).
    func guestXML(_ name: String) throws -> String {
        let script = try value("DOMAIN_XML_SCRIPT")
        return try run("/bin/bash", [script, name]).stdout
    }

    /// Defines a fresh guest with a pinned identity and returns it; `cleanup` removes it afterwards.
    func freshGuest(_ label: String, on host: Hypervisor) async throws -> Domain {
        let name = "it-\(label)"
        try await Self.remove(name, from: host.connection)
        return try await host.define(xml: guestXML(name), pinIdentity: true).domain
    }

    /// Destroys and undefines a test guest (with its managed-save image) if it exists.
    static func remove(_ name: String, from connection: Connection) async throws {
        guard let d = try await connection.domainIfExists(name: name) else { return }
        if try await d.isActive() { try await d.destroy() }
        if try await d.isPersistent() { try await d.undefine(flags: .managedSave) }
    }
}

struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a program and waits for it; output is captured through files, so large output cannot block it.
@discardableResult
func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let dir = FileManager.default.temporaryDirectory
    let out = dir.appendingPathComponent("out-\(UUID().uuidString)")
    let err = dir.appendingPathComponent("err-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: out)
        try? FileManager.default.removeItem(at: err)
    }
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus,
                         stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
}

/// The built `vmctl` (swift build puts it next to the test bundle).
var vmctlPath: String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/vmctl").path
}
