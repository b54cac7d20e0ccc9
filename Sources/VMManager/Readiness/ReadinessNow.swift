import FoundationEssentials
import Libvirt

/// Whether a running guest is ready at this moment, by its readiness policy: one probe, a short deadline.
/// This is what `vmctl status` shows; a start waits with
/// ``BootWait/waitUntilReady(_:probe:timeout:context:pollInterval:)`` instead.
public enum ReadinessNow: Sendable, Equatable {
    case ready
    case notReady(String)
    /// The policy cannot be judged after the fact (a console line or a timer counts only while a start waits).
    case notJudged(String)

    /// Probes `domain` once by `probe`; never takes much longer than `timeout`.
    public static func probe(
        _ domain: Domain, _ probe: ReadinessProbe, timeout: Duration = .seconds(2)
    ) async
        -> ReadinessNow
    {
        guard let state = try? await domain.state() else { return .notReady("its state cannot be read") }
        guard state.kind == .running else { return .notReady("it is \(state)") }
        switch probe {
        case .none:
            return .ready
        case .guestAgent:
            let answer = await firstWithin(timeout) { () -> String? in
                do throws(LibvirtError) {
                    try await domain.pingAgent(timeout: timeout)
                    return ""
                } catch { return error.message }
            }
            switch answer {
            case ""?: return .ready
            case let why?: return .notReady("its guest agent does not answer: \(why)")
            case nil: return .notReady("its guest agent did not answer within \(timeout.formattedSeconds)")
            }
        case .tcpPort(let host, let port):
            if let why = await TCPProbe.connect(host: host, port: port, timeout: timeout) { return .notReady(why) }
            return .ready
        case .serialLine:
            return .notJudged("a console line counts only while a start waits for it")
        case .uptime:
            return .notJudged("a timer counts only while a start waits for it")
        case .scripts(let scripts):
            if let why = await scripts.firstFailure(guest: domain.name, timeout: timeout) { return .notReady(why) }
            return .ready
        case .command(let command):
            do {
                if let why = try await ContainerCommand.firstFailure(command, in: domain, timeout: timeout) {
                    return .notReady(why)
                }
                return .ready
            } catch { return .notReady(error.message) }
        }
    }
}

extension GuestUptime {
    /// The guest's uptime if its agent tells it within `limit`, else nil. For tables (`vmctl list`), where one
    /// silent guest must not hold up the others: the answer is abandoned at the deadline, not awaited.
    public static func readIfQuick(_ domain: Domain, within limit: Duration = .seconds(1)) async -> Duration? {
        await firstWithin(limit) { try? await read(domain, timeout: limit) }
    }
}

/// Runs `body` and returns its result, or nil when `limit` passes first. `body` is left to finish on its own
/// (a libvirt call cannot be interrupted; its thread ends when the call does).
func firstWithin<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async -> T?) async -> T? {
    await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
        // The first of "the body answered" and "the limit passed" resumes the caller.
        let once = OnceContinuation(continuation)
        let timer = Task {
            // Cancelled: the body answered first.
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            once.resume(returning: nil)
        }
        Task {
            let value = await body()
            once.resume(returning: value)
            timer.cancel()
        }
    }
}
