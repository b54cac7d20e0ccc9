import FoundationEssentials
import VMManager
#if canImport(Glibc)
import Glibc
#endif

/// What one target said about one event.
public struct DeliveryResult: Sendable, CustomStringConvertible {
    public let target: NotifyTarget
    public let accepted: Bool
    /// `250 accepted`, `HTTP 204 after 3 attempts`, or what went wrong and what to do.
    public let detail: String

    public var description: String { "\(target): \(accepted ? "accepted" : "FAILED") (\(detail))" }
}

/// Sends events to targets. One per flush: it keeps a libcurl handle per target (so consecutive mails reuse
/// one SMTP connection) and reads each secret file once.
final class DeliverySession {
    private var handles: [String: Curl.Handle] = [:]
    private var secrets: [String: Result<String, ConfigError>] = [:]
    private let userAgent = "vmmanager-notifier (\(Curl.version.split(separator: " ").first ?? "libcurl"))"
    /// Whether to sleep between webhook retries (tests of the logic may turn it off).
    let sleep: @Sendable (Duration) -> Void

    init(
        sleep: @escaping @Sendable (Duration) -> Void = { d in
            let ns = d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
            var ts = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
            var rest = timespec()
            while nanosleep(&ts, &rest) != 0 && errno == EINTR { ts = rest }
        }
    ) {
        self.sleep = sleep
    }

    func deliver(_ event: TransitionEvent, to target: NotifyTarget) -> DeliveryResult {
        switch target {
        case .mail(let m): return mail(event, m, target)
        case .webhook(let w): return webhook(event, w, target)
        }
    }

    private func handle(for key: String) -> Curl.Handle? {
        if let h = handles[key] { return h }
        let h = Curl.Handle()
        handles[key] = h
        return h
    }

    private func secret(_ path: String, key: String) -> Result<String, ConfigError> {
        if let s = secrets[path] { return s }
        let s: Result<String, ConfigError>
        do { s = .success(try SecretFile.read(path, key: key)) } catch { s = .failure(error) }
        secrets[path] = s
        return s
    }

    private func mail(_ event: TransitionEvent, _ m: MailTarget, _ target: NotifyTarget) -> DeliveryResult {
        var password: String?
        if let file = m.passwordFile {
            switch secret(file, key: "smtp_password_file") {
            case .success(let p): password = p
            case .failure(let e): return DeliveryResult(target: target, accepted: false, detail: e.description)
            }
        }
        guard let handle = handle(for: target.key) else {
            return DeliveryResult(target: target, accepted: false, detail: "libcurl could not be initialised")
        }
        let message = MailMessage(event: event, from: m.from, to: m.to)
        let request = Curl.SMTPRequest(
            url: m.url, from: m.from, recipients: m.to, message: message.bytes, startTLS: m.startTLS, user: m.user,
            password: password, tls: Curl.TLS(verify: m.tlsVerify, caFile: m.caFile), timeout: m.timeout)
        switch Curl.sendMail(request, on: handle) {
        case .success(let code):
            return DeliveryResult(target: target, accepted: true, detail: "\(code) accepted")
        case .failure(let f):
            var hint = ""
            if f.isTLSVerification {
                hint =
                    "; the server's certificate is not trusted: set tls_ca_file to its CA (or smtp_starttls = no "
                    + "for a local MTA on loopback)"
            }
            return DeliveryResult(target: target, accepted: false, detail: "\(f)\(hint)")
        }
    }

    private func webhook(_ event: TransitionEvent, _ w: WebhookTarget, _ target: NotifyTarget) -> DeliveryResult {
        let body = WebhookPayload(event).json()
        var headers = [
            "Content-Type: application/json",
            "User-Agent: \(userAgent)",
            "X-Vmmanager-Event-Id: \(event.id.uuidString.lowercased())",
        ]
        if let file = w.secretFile {
            switch secret(file, key: "webhook_secret_file") {
            case .success(let s):
                headers.append("X-Vmmanager-Signature: " + WebhookPayload.signature(body: body, secret: s))
            case .failure(let e): return DeliveryResult(target: target, accepted: false, detail: e.description)
            }
        }
        guard let handle = handle(for: target.key) else {
            return DeliveryResult(target: target, accepted: false, detail: "libcurl could not be initialised")
        }
        var lastFailure = ""
        var delay = w.backoff
        let attempts = 1 + w.retries
        for attempt in 1...attempts {
            if attempt > 1 {
                sleep(delay)
                delay = min(delay * 2, .seconds(60))
            }
            let request = Curl.HTTPRequest(
                url: w.url, body: body, headers: headers + ["X-Vmmanager-Attempt: \(attempt)"],
                tls: Curl.TLS(verify: w.tlsVerify, caFile: w.caFile), timeout: w.timeout)
            switch Curl.post(request, on: handle) {
            case .success(let r) where (200..<300).contains(r.status):
                let note = attempt > 1 ? " after \(attempt) attempts" : ""
                return DeliveryResult(target: target, accepted: true, detail: "HTTP \(r.status)\(note)")
            case .success(let r):
                let snippet = MailMessage.headerText(String(r.body.prefix(200)))
                lastFailure = "HTTP \(r.status)" + (snippet.isEmpty ? "" : ": \(snippet)")
                // A client error other than a timeout or rate limit will not change within seconds; the
                // event stays spooled and the next flush tries again.
                if (400..<500).contains(r.status) && r.status != 408 && r.status != 429 {
                    return DeliveryResult(target: target, accepted: false, detail: "\(lastFailure) (not retried now)")
                }
            case .failure(let f):
                lastFailure = f.description
            }
        }
        return DeliveryResult(
            target: target, accepted: false,
            detail: "\(lastFailure) after \(attempts) attempt\(attempts == 1 ? "" : "s")")
    }
}
