import FoundationEssentials
internal import CLibvirt
#if canImport(Glibc)
import Glibc
#endif

/// QEMU guest agent access (the `org.qemu.guest_agent.0` channel), through libvirt's
/// [virDomainQemuAgentCommand](https://libvirt.org/html/libvirt-libvirt-qemu.html#virDomainQemuAgentCommand).
extension Domain {
    /// Sends one raw JSON command to the guest agent and returns its raw JSON answer.
    /// - Parameter timeout: how long the agent may take (whole seconds, at least 1); the libvirt call's
    ///   own deadline is this plus a margin for the daemon.
    /// - Throws: ``LibvirtError`` — `.agentUnresponsive` when no agent answers (not running yet, or the
    ///   guest has no agent channel), `.operationInvalid` when the domain is not running.
    public func agentCommand(_ json: String, timeout: Duration = .seconds(5)) async throws(LibvirtError) -> String {
        let seconds = Int32(max(1, timeout.seconds.rounded(.up)))
        let name = self.name
        return try await call("virDomainQemuAgentCommand", timeout: timeout + .seconds(5)) {
            (d) throws(LibvirtError) -> String in
            guard let s = virDomainQemuAgentCommand(d, json, seconds, 0) else {
                throw LibvirtError.last(operation: "virDomainQemuAgentCommand", target: name)
            }
            defer { free(s) }
            return String(cString: s)
        }
    }

    /// `guest-ping`: returns when the agent inside the guest answered, which means the guest booted far
    /// enough to start its services.
    public func pingAgent(timeout: Duration = .seconds(5)) async throws(LibvirtError) {
        _ = try await agentCommand(#"{"execute":"guest-ping"}"#, timeout: timeout)
    }

    /// The guest's system clock, read through its agent
    /// ([virDomainGetTime](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetTime)).
    public func guestTime(timeout: Duration = .seconds(5)) async throws(LibvirtError) -> Date {
        let name = self.name
        return try await call("virDomainGetTime", timeout: timeout) { (d) throws(LibvirtError) -> Date in
            var seconds: Int64 = 0
            var nanoseconds: UInt32 = 0
            if virDomainGetTime(d, &seconds, &nanoseconds, 0) < 0 {
                throw LibvirtError.last(operation: "virDomainGetTime", target: name)
            }
            return Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1e9)
        }
    }

    /// Sets the guest's system clock through its agent
    /// ([virDomainSetTime](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainSetTime)), as
    /// libvirt-guests' SYNC_TIME does after a restore: a restored guest's clock stands where it was saved.
    public func setGuestTime(_ time: Date, timeout: Duration = .seconds(5)) async throws(LibvirtError) {
        let whole = time.timeIntervalSince1970.rounded(.down)
        let nanoseconds = UInt32(max(0, min(999_999_999, (time.timeIntervalSince1970 - whole) * 1e9)))
        try await status("virDomainSetTime", timeout: timeout) { virDomainSetTime($0, Int64(whole), nanoseconds, 0) }
    }

    /// Runs a program in the guest through the agent (`guest-exec` then `guest-exec-status`) and returns
    /// its exit code and output. The guest's agent must allow guest-exec.
    public func agentExec(
        path: String, arguments: [String] = [], timeout: Duration = .seconds(10)
    ) async throws(LibvirtError) -> GuestExecResult {
        struct Exec: Encodable {
            let execute = "guest-exec"
            let arguments: Args
            struct Args: Encodable {
                let path: String
                let arg: [String]
                let captureOutput = true
                enum CodingKeys: String, CodingKey { case path, arg, captureOutput = "capture-output" }
            }
        }
        struct Started: Decodable {
            let `return`: PID
            struct PID: Decodable { let pid: Int }
        }
        struct Status: Decodable {
            let `return`: Body
            struct Body: Decodable {
                let exited: Bool
                let exitcode: Int?
                let outData: String?
                let errData: String?
                enum CodingKeys: String, CodingKey { case exited, exitcode, outData = "out-data", errData = "err-data" }
            }
        }
        let deadline = ContinuousClock.now + timeout
        let request = String(decoding: try encode(Exec(arguments: .init(path: path, arg: arguments))), as: UTF8.self)
        let started: Started = try decode(try await agentCommand(request, timeout: timeout), as: Started.self)
        while true {
            let status: Status = try decode(
                try await agentCommand(
                    #"{"execute":"guest-exec-status","arguments":{"pid":\#(started.return.pid)}}"#,
                    timeout: timeout),
                as: Status.self)
            if status.return.exited {
                func text(_ b64: String?) -> String {
                    guard let b64, let data = Data(base64Encoded: b64) else { return "" }
                    return String(decoding: data, as: UTF8.self)
                }
                return GuestExecResult(
                    exitCode: status.return.exitcode ?? -1,
                    standardOutput: text(status.return.outData),
                    standardError: text(status.return.errData))
            }
            if ContinuousClock.now >= deadline {
                throw LibvirtError(
                    code: .timedOut, message: "\(path) did not exit in the guest within \(timeout)",
                    operation: "guest-exec-status", target: name)
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func encode<T: Encodable>(_ value: T) throws(LibvirtError) -> Data {
        do { return try JSONEncoder().encode(value) } catch {
            throw LibvirtError(
                code: .internalError, message: "cannot encode agent command: \(error)",
                operation: "guest-exec", target: name)
        }
    }

    private func decode<T: Decodable>(_ text: String, as: T.Type) throws(LibvirtError) -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
            throw LibvirtError(
                code: .internalError, message: "unexpected guest agent answer \(text.prefix(200))",
                operation: "guest-exec", target: name)
        }
    }
}

/// What a program run by ``Domain/agentExec(path:arguments:timeout:)`` returned.
public struct GuestExecResult: Sendable, Hashable {
    public let exitCode: Int
    public let standardOutput: String
    public let standardError: String
}
