import Foundation
import IntegrationSupport
import Testing

/// The vmctl under test: `VMCTL_BINARY`, else the one built with this test bundle (same scratch path, same
/// configuration).
var vmctlBinary: String {
    get throws { try ProcessInfo.processInfo.environment["VMCTL_BINARY"] ?? vmctlPath }
}

/// The environment vmctl runs with: this process's, without what would change its behaviour behind a test's
/// back (`VMCTL_CONNECT`, `NO_COLOR`).
func testEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    env["VMCTL_CONNECT"] = nil
    env["NO_COLOR"] = nil
    for (k, v) in extra { env[k] = v }
    return env
}

/// Runs vmctl to the end.
@discardableResult
func vmctl(_ arguments: String..., environment: [String: String] = [:]) throws -> CommandResult {
    try run(vmctlBinary, arguments, environment: testEnvironment(environment))
}

func vmctl(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    try run(vmctlBinary, arguments, environment: testEnvironment(environment))
}

/// Parses JSON output.
func json(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}

func object(_ text: String) throws -> [String: Any] {
    try #require(try json(text) as? [String: Any], "not a JSON object: \(text)")
}

func array(_ text: String) throws -> [[String: Any]] {
    try #require(try json(text) as? [[String: Any]], "not a JSON array of objects: \(text)")
}

/// vmctl running in the background (`events`), with its output in files so it can be read at any time.
final class Background {
    let process = Process()
    private let out: URL
    private let err: URL

    init(_ arguments: [String]) throws {
        let dir = FileManager.default.temporaryDirectory
        out = dir.appendingPathComponent("vmctl-out-\(UUID().uuidString)")
        err = dir.appendingPathComponent("vmctl-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.executableURL = try URL(fileURLWithPath: vmctlBinary)
        process.arguments = arguments
        process.environment = testEnvironment()
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: out)
        try? FileManager.default.removeItem(at: err)
    }

    var stdout: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }

    /// Waits until `condition` holds, at most `timeout`.
    func waitUntil(_ what: String, timeout: Duration = .seconds(20), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            if ContinuousClock.now >= deadline {
                Issue.record("timed out waiting for \(what); stdout: \(stdout) stderr: \(stderr)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Sends `signal` and returns the exit status, or nil if the process did not end within `timeout`.
    func stop(with signal: Int32, timeout: Duration = .seconds(5)) async throws -> Int32? {
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
    }
}

/// A libvirt test-driver host described by a file: `test:///<path>`. Each vmctl run gets its own copy of
/// it (the test driver keeps its state in the process), so no daemon is needed.
struct TestDriverHost {
    let path: String
    var uri: String { "test://" + path }

    /// - Parameter domains: `<domain type='test'>` elements; `runstate` 5 is shut off, `managedSave` adds an image.
    init(in dir: String, name: String = "node.xml", domains: [String]) throws {
        path = "\(dir)/\(name)"
        try ("<node>\n" + domains.joined(separator: "\n") + "\n</node>\n").write(
            toFile: path, atomically: true,
            encoding: .utf8)
    }

    static func domain(
        _ name: String, uuid: String? = nil, macs: [String] = [], disks: [String] = [],
        shutOff: Bool = false, managedSave: Bool = false, agentChannel: Bool = false
    ) -> String {
        var xml = "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n<name>\(name)</name>\n"
        if let uuid { xml += "<uuid>\(uuid)</uuid>\n" }
        xml += "<memory>65536</memory><os><type>hvm</type></os>\n<devices>\n"
        for (i, disk) in disks.enumerated() {
            let target = "vd" + String(Character(UnicodeScalar(97 + i)!))
            xml += "<disk type='file' device='disk'><source file='\(disk)'/><target dev='\(target)'/></disk>\n"
        }
        for mac in macs { xml += "<interface type='user'><mac address='\(mac)'/></interface>\n" }
        if agentChannel {
            xml += "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n"
        }
        xml += "</devices>\n"
        if shutOff { xml += "<test:runstate>5</test:runstate>\n" }
        if managedSave { xml += "<test:hasmanagedsave>yes</test:hasmanagedsave>\n" }
        return xml + "</domain>"
    }
}

/// Writes a vmmanager.conf into `dir` and returns its path.
func writeConfig(_ text: String, in dir: String, name: String = "vmmanager.conf") throws -> String {
    let path = "\(dir)/\(name)"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Whether `text` contains an ANSI escape sequence.
func hasColour(_ text: String) -> Bool { text.contains("\u{1B}[") }
