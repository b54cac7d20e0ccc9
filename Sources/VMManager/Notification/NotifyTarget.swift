import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// One place an event goes: a mail to the configured recipients, or one webhook URL.
public enum NotifyTarget: Sendable, Hashable, CustomStringConvertible {
    case mail(MailTarget)
    case webhook(WebhookTarget)

    /// What the spool remembers once the target accepted an event, so that a retry skips it. It changes when
    /// the recipients or the URL change, and a changed target gets the event again.
    public var key: String {
        switch self {
        case .mail(let m): "mail \(m.url) \(m.to.sorted().joined(separator: ","))"
        case .webhook(let w): "webhook \(w.url)"
        }
    }

    public var description: String {
        switch self {
        case .mail(let m): "mail to \(m.to.joined(separator: ", ")) via \(m.url)"
        case .webhook(let w): "webhook \(w.url)"
        }
    }
}

public struct MailTarget: Sendable, Hashable {
    public let to: [String]
    public let from: String
    public let url: String
    public let startTLS: NotifySettings.StartTLS
    public let user: String?
    public let passwordFile: String?
    public let timeout: Duration
    public let tlsVerify: Bool
    public let caFile: String?

    package init(settings s: NotifySettings) {
        to = s.mailTo
        from = s.mailFrom
        url = s.smtpURL
        startTLS = s.smtpStartTLS
        user = s.smtpUser
        passwordFile = s.smtpPasswordFile
        timeout = s.smtpTimeout
        tlsVerify = s.tlsVerify
        caFile = s.tlsCAFile
    }
}

public struct WebhookTarget: Sendable, Hashable {
    public let url: String
    public let secretFile: String?
    public let timeout: Duration
    public let retries: Int
    public let backoff: Duration
    public let tlsVerify: Bool
    public let caFile: String?

    package init(url: String, settings s: NotifySettings) {
        self.url = url
        secretFile = s.webhookSecretFile
        timeout = s.webhookTimeout
        retries = s.webhookRetries
        backoff = s.webhookBackoff
        tlsVerify = s.tlsVerify
        caFile = s.tlsCAFile
    }
}
