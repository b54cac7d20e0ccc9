import Foundation
import IntegrationSupport
import Testing
import VMManager

/// Debian's python3, which has python3-aiosmtpd (a `python3` earlier on PATH, e.g. pyenv's, may not).
let python = "/usr/bin/python3"

/// A private directory, removed when the value goes away.
final class Scratch: @unchecked Sendable {
    // @unchecked: immutable after init.
    let path: String

    init(_ label: String) throws {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("vmm-notify-\(label)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `name` in the directory with `mode`, returns its path.
    @discardableResult
    func file(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let p = "\(path)/\(name)"
        try text.write(toFile: p, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: p)
        return p
    }

    /// A notifier over a configuration written from `text`.
    func notifier(_ text: String) throws -> (Notifier, String) {
        let config = try file("vmmanager.conf", text, mode: 0o644)
        let notifier = Notifier.load(configPath: config)
        if let e = notifier.configurationError { Issue.record("configuration: \(e)") }
        return (notifier, config)
    }
}

/// A running helper process (a Python server from Tests/Fixtures).
class FixtureServer: @unchecked Sendable {
    // @unchecked: used from one test at a time (the suites are serialized).
    let directory: String
    private(set) var port = 0
    private var process: Process?
    private let script: String
    private var arguments: [String]
    private let scratch: Scratch

    init(script: String, arguments: [String], in scratch: Scratch, name: String) throws {
        self.scratch = scratch
        self.script = script
        self.arguments = arguments
        directory = "\(scratch.path)/\(name)"
        try #require(FileManager.default.isExecutableFile(atPath: python), "\(python) is missing")
        try start(port: 0)
    }

    deinit { stop() }

    /// Starts the server (on `port`, or on a free one for 0) and waits until it listens.
    func start(port wanted: Int? = nil) throws {
        let portFile = "\(scratch.path)/\(UUID().uuidString).port"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments =
            [
                "\(packageRoot)/Tests/Fixtures/\(script)", "--dir", directory, "--port", "\(wanted ?? port)",
                "--port-file", portFile,
            ] + arguments
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        let log = "\(scratch.path)/\(script).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let n = Int(text) {
                port = n
                return
            }
            if !p.isRunning {
                let err = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw FixtureError("\(script) exited with \(p.terminationStatus): \(err)")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw FixtureError("\(script) did not start listening within 15 s")
    }

    /// Stops the server and starts it again on the same port with other arguments.
    func restart(with arguments: [String]) throws {
        stop()
        self.arguments = arguments
        try start()
    }

    /// Stops the server (SIGTERM) and waits for it.
    func stop() {
        guard let p = process else { return }
        // Polling, not waitUntilExit(), which spins a run loop at full CPU on Linux.
        if p.isRunning {
            p.terminate()
            let deadline = Date().addingTimeInterval(5)
            while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            while p.isRunning { Thread.sleep(forTimeInterval: 0.01) }
        }
        process = nil
    }

    /// The parsed `.json` records, oldest first.
    func records() -> [[String: Any]] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            $0.hasSuffix(".json")
        }
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: "\(directory)/\(name)")
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
    }

    /// Waits until at least `count` records are there (or `timeout` passes) and returns them.
    func waitForRecords(_ count: Int, timeout: Double = 15) async -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        var r = records()
        while r.count < count && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            r = records()
        }
        return r
    }
}

/// Tests/Fixtures/smtp_capture.py: a real aiosmtpd server on loopback that keeps each accepted message.
final class SMTPServer: FixtureServer, @unchecked Sendable {
    init(in scratch: Scratch, _ arguments: [String] = []) throws {
        try super.init(script: "smtp_capture.py", arguments: arguments, in: scratch, name: "mail")
    }

    var messages: [Mail] { records().map(Mail.init) }

    func waitForMessages(_ count: Int, timeout: Double = 15) async -> [Mail] {
        await waitForRecords(count, timeout: timeout).map(Mail.init)
    }

    struct Mail {
        let record: [String: Any]
        init(_ record: [String: Any]) { self.record = record }
        var subject: String { record["subject"] as? String ?? "" }
        /// The decoded body with `\n` line ends.
        var body: String { (record["body"] as? String ?? "").replacingOccurrences(of: "\r\n", with: "\n") }
        var eventID: String { record["event_id"] as? String ?? "" }
        var recipients: [String] { record["rcpt_tos"] as? [String] ?? [] }
        var sender: String { record["mail_from"] as? String ?? "" }
        var rawHeaderNames: [String] { record["raw_header_names"] as? [String] ?? [] }
        var tls: Bool { record["tls"] as? Bool ?? false }
        var login: String? { record["login"] as? String }
        /// The first header of that name, as Python's email package decoded it.
        func header(_ name: String) -> String? {
            (record["headers"] as? [[String]])?.first { $0.first?.lowercased() == name.lowercased() }?.last
        }
    }
}

/// Tests/Fixtures/http_receiver.py: a real HTTP server on loopback that records each POST.
final class HTTPReceiver: FixtureServer, @unchecked Sendable {
    init(in scratch: Scratch, _ arguments: [String] = []) throws {
        try super.init(script: "http_receiver.py", arguments: arguments, in: scratch, name: "hooks")
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A port nothing listens on (bound, read and closed again).
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    try #require(ok, "cannot find a free port")
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A guest event with every field set.
func sampleEvent(
    guest: String = "web1", transition: TransitionKind = .up, reason: String = "start: booted"
)
    -> TransitionEvent
{
    TransitionEvent(
        transition: transition, guest: guest, guestUUID: UUID(uuidString: "4b1c7a36-9d0e-5f2a-8c3b-2d1e0f9a8b7c"),
        reason: reason, node: "node1", previousState: "shut off (saved)", newState: "running (restored)",
        guestUptimeSeconds: 3725.4, configPath: "/etc/vmmanager/guests/\(guest).xml",
        durations: .init(restoreSeconds: 0.534, bootWaitSeconds: 5.2, migrationDowntimeMilliseconds: 12),
        source: .agent)
}

/// Waits until `condition` holds or `timeout` passes.
func eventually(timeout: Double = 15, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
