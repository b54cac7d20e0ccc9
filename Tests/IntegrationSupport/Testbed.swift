import Foundation
import Libvirt
import VMManager

/// The real testbed that `make testbed` brings up: libvirtd on this machine (node A), a second
/// libvirtd in its own namespaces (node B), and a tiny guest image with a QEMU guest agent.
///
/// `make test` sets VMMANAGER_TESTBED to the testbed's env file; then a missing testbed fails the
/// tests instead of skipping them. Without it (a plain `swift test`), the integration tests are skipped.
public struct Testbed: Sendable {
    public let values: [String: String]

    public static let envFile = ProcessInfo.processInfo.environment["VMMANAGER_TESTBED"]
    public static let isRequested = envFile != nil

    public static func load() throws -> Testbed {
        guard let path = envFile else { throw TestbedError("VMMANAGER_TESTBED is not set") }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return Testbed(values: values)
    }

    public func value(_ key: String) throws -> String {
        guard let v = values[key] else { throw TestbedError("testbed.env has no \(key)") }
        return v
    }

    public var nodeA: String { values["NODE_A_URI"] ?? "qemu:///system" }
    public func nodeB() throws -> String { try value("NODE_B_URI") }
    public func nodeBMigrateURI() throws -> String { try value("NODE_B_MIGRATE_URI") }

    /// A domain XML for a test guest named `name` (no UUID, no MAC: as a user would write it).
    public func guestXML(_ name: String) throws -> String {
        let script = try value("DOMAIN_XML_SCRIPT")
        return try run("/bin/bash", [script, name]).stdout
    }

    /// Defines a fresh guest with a pinned identity and returns it; `cleanup` removes it afterwards.
    public func freshGuest(_ label: String, on host: Hypervisor) async throws -> Domain {
        let name = "it-\(label)"
        try await Self.remove(name, from: host.connection)
        return try await host.define(xml: guestXML(name), pinIdentity: true).domain
    }

    /// Destroys and undefines a test guest (with its managed-save image) if it exists.
    public static func remove(_ name: String, from connection: Connection) async throws {
        guard let d = try await connection.domainIfExists(name: name) else { return }
        if try await d.isActive() { try await d.destroy() }
        // libvirt's LXC driver takes no undefine flags (containers have no managed save).
        if try await d.isPersistent() {
            try await d.undefine(flags: connection.uri.hasPrefix("lxc") ? [] : .managedSave)
        }
    }
}

/// The testbed is missing or incomplete.
public struct TestbedError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// Runs the resource agent as Pacemaker's executor would: one action argument, parameters as
/// `OCF_RESKEY_*`, in its own PID namespace (see testbed/in-node.sh).
public func runOCF(
    _ action: String, _ parameters: [String: String], meta: [String: String] = [:],
    environment extra: [String: String] = [:]
) throws -> CommandResult {
    var env = [
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RA_VERSION_MAJOR": "1", "OCF_RA_VERSION_MINOR": "1",
    ].merging(sanitizerEnvironment) { $1 }
    for (k, v) in parameters { env["OCF_RESKEY_\(k)"] = v }
    for (k, v) in meta { env["OCF_RESKEY_CRM_meta_\(k)"] = v }
    for (k, v) in extra { env[k] = v }
    return try run(
        "/usr/bin/unshare", ["--pid", "--fork", "--kill-child", "--mount-proc", "--", agentPath, action],
        environment: env)
}

/// Runs the resource agent as heartbeat v1's ResourceManager would for `vmmanager::<arguments>`:
/// `vmmanager arg1 arg2 ... start|stop|status`, in its own PID namespace.
public func runHeartbeat(_ arguments: [String], _ action: String) throws -> CommandResult {
    try run(
        "/usr/bin/unshare",
        ["--pid", "--fork", "--kill-child", "--mount-proc", "--", agentPath] + arguments + [action],
        environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HA_RESOURCEDIR": "/etc/ha.d/resource.d"]
            .merging(sanitizerEnvironment) { $1 })
}

/// A private directory for one test's agent state, locks and guest XML.
public func scratchDirectory(_ label: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "vmm-\(label)-\(UUID().uuidString.prefix(8))"
    ).path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
