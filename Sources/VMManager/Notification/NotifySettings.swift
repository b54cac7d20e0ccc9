import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Where and how notifications go, resolved from vmmanager.conf for one guest (or for the node).
///
/// Values come, in rising priority, from the defaults, `[global]`, `[notify]`, and the guest's `[guest NAME]`
/// section, so one guest can mail its own owners. Secrets are never in the file itself: `smtp_password_file`
/// and `webhook_secret_file` name files that must be mode 0600 or stricter, read only when a message is sent.
public struct NotifySettings: Sendable, Hashable {
    /// STARTTLS on `smtp://`.
    public enum StartTLS: String, Sendable, Hashable {
        /// Never (a local MTA on loopback).
        case no
        /// When the server offers it; the certificate is then verified like any other.
        case yes
        /// Refuse to send when the server does not offer it.
        case required
    }

    public var mailTo: [String]
    public var mailFrom: String
    public var smtpURL: String
    public var smtpStartTLS: StartTLS
    public var smtpUser: String?
    public var smtpPasswordFile: String?
    public var smtpTimeout: Duration
    /// Verify TLS certificates and host names (SMTP and HTTPS). Default yes.
    public var tlsVerify: Bool
    /// A CA bundle to trust instead of the system's (a private CA, a self-signed server).
    public var tlsCAFile: String?
    public var webhookURLs: [String]
    public var webhookSecretFile: String?
    public var webhookTimeout: Duration
    /// Extra attempts after a failed POST, within one flush.
    public var webhookRetries: Int
    /// The wait before the first retry; it doubles at each further retry.
    public var webhookBackoff: Duration
    public var spoolDirectory: String

    public static let defaultConfigPath = "/etc/vmmanager/vmmanager.conf"
    public static let defaultSpoolDirectory = "/var/spool/vmmanager"

    /// Every key this type reads; `[notify]` may hold these and nothing else.
    public static let keys: Set<String> = [
        "mail_to", "mail_from", "smtp_url", "smtp_starttls", "smtp_user", "smtp_password_file", "smtp_timeout",
        "tls_verify", "tls_ca_file", "webhook_url", "webhook_secret_file", "webhook_timeout", "webhook_retries",
        "webhook_backoff", "spool_dir",
    ]

    /// The keys a `[guest NAME]` (or `[global]`) section may override: all but `spool_dir`, which is per node
    /// (every event of the node goes through one spool, which one flush empties).
    public static let guestKeys: Set<String> = keys.subtracting(["spool_dir"])

    /// Defaults only: no recipients, no webhooks (notifications off).
    public init() {
        mailTo = []
        mailFrom = "vmmanager@\(TransitionEvent.localNode)"
        smtpURL = "smtp://localhost"
        smtpStartTLS = .yes
        smtpUser = nil
        smtpPasswordFile = nil
        smtpTimeout = .seconds(30)
        tlsVerify = true
        tlsCAFile = nil
        webhookURLs = []
        webhookSecretFile = nil
        webhookTimeout = .seconds(10)
        webhookRetries = 3
        webhookBackoff = .seconds(1)
        spoolDirectory = Self.defaultSpoolDirectory
    }

    /// Where each target goes; empty when notifications are off.
    public var targets: [NotifyTarget] {
        var result: [NotifyTarget] = []
        if !mailTo.isEmpty { result.append(.mail(MailTarget(settings: self))) }
        for url in webhookURLs { result.append(.webhook(WebhookTarget(url: url, settings: self))) }
        return result
    }

    /// True when at least one recipient or webhook is configured.
    public var isEnabled: Bool { !mailTo.isEmpty || !webhookURLs.isEmpty }

    /// Resolves the settings of `guest` (or of the node, for `nil`).
    /// - Parameters:
    ///   - file: the parsed vmmanager.conf; nil means no file (defaults: notifications off).
    ///   - guest: the guest whose `[guest NAME]` section overrides `[notify]`.
    /// - Throws: ``ConfigError`` naming the file, line and key: an unknown key in `[notify]`, a value that does
    ///   not parse, `spool_dir` in a guest section, a password that would cross the network in clear text.
    public static func resolve(file: ConfigFile?, guest: String?) throws(ConfigError) -> NotifySettings {
        var settings = NotifySettings()
        guard let file else { return settings }
        var values: [String: ConfigFile.Entry] = [:]
        for entry in file.entries(of: "global") where guestKeys.contains(entry.key) || entry.key == "spool_dir" {
            values[entry.key] = entry
        }
        for entry in file.entries(of: "notify") {
            guard keys.contains(entry.key) else {
                throw ConfigError(
                    .unknownKey, file: file.path, line: entry.line, key: entry.key,
                    "unknown key in [notify]; the keys are \(keys.sorted().joined(separator: ", "))")
            }
            values[entry.key] = entry
        }
        if let guest {
            for entry in file.entries(ofGuest: guest) {
                if entry.key == "spool_dir" {
                    throw ConfigError(
                        .invalidValue, file: file.path, line: entry.line, key: entry.key,
                        "the spool is per node: set spool_dir in [notify], not in [guest \(guest)]")
                }
                // Other keys of a guest section are the agent's; it validates them.
                if guestKeys.contains(entry.key) { values[entry.key] = entry }
            }
        }
        let read = ValueReader(file: file.path, values: values)
        if let v = try read.list("mail_to") {
            for address in v.list { try read.address(address, key: "mail_to") }
            settings.mailTo = v.list
        }
        if let v = read.string("mail_from") {
            try read.address(v, key: "mail_from")
            settings.mailFrom = v
        }
        if let v = read.string("smtp_url") {
            try read.url(v, key: "smtp_url", schemes: ["smtp", "smtps"])
            settings.smtpURL = v
        }
        if let v = read.string("smtp_starttls") {
            switch v.lowercased() {
            case "yes", "true", "on", "1", "try": settings.smtpStartTLS = .yes
            case "no", "false", "off", "0": settings.smtpStartTLS = .no
            case "required", "require", "always": settings.smtpStartTLS = .required
            default: throw read.invalid("smtp_starttls", "expected yes (when offered), no, or required")
            }
        }
        settings.smtpUser = read.string("smtp_user")
        settings.smtpPasswordFile = try read.path("smtp_password_file")
        if let t = try read.seconds("smtp_timeout") { settings.smtpTimeout = t }
        if let b = try read.bool("tls_verify") { settings.tlsVerify = b }
        settings.tlsCAFile = try read.path("tls_ca_file")
        if let v = try read.list("webhook_url") {
            for url in v.list { try read.url(url, key: "webhook_url", schemes: ["http", "https"]) }
            settings.webhookURLs = v.list
        }
        settings.webhookSecretFile = try read.path("webhook_secret_file")
        if let t = try read.seconds("webhook_timeout") { settings.webhookTimeout = t }
        if let n = try read.integer("webhook_retries", range: 0...20) { settings.webhookRetries = n }
        if let t = try read.seconds("webhook_backoff") { settings.webhookBackoff = t }
        if let p = try read.path("spool_dir") { settings.spoolDirectory = p }

        if settings.smtpUser != nil, settings.smtpPasswordFile == nil {
            throw read.invalid("smtp_user", "needs smtp_password_file (a mode 0600 file holding the password)")
        }
        if settings.smtpPasswordFile != nil, settings.smtpUser == nil {
            throw read.invalid("smtp_password_file", "needs smtp_user")
        }
        if settings.smtpUser != nil, settings.smtpStartTLS == .no, settings.smtpURL.lowercased().hasPrefix("smtp:"),
            !isLoopback(host(of: settings.smtpURL))
        {
            throw read.invalid(
                values["smtp_starttls"] != nil ? "smtp_starttls" : "smtp_user",
                "smtp_starttls = no with smtp_user would send the password in clear text to "
                    + "\(host(of: settings.smtpURL)); use STARTTLS or smtps://")
        }
        return settings
    }

    /// The host part of a URL, for messages and the loopback check.
    static func host(of url: String) -> String {
        guard let u = URL(string: url), let h = u.host else { return url }
        return h
    }

    static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingBrackets
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }
}

extension String {
    fileprivate var trimmingBrackets: String {
        hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
    }
}

/// Typed values out of the merged entries, with errors that name where the value came from.
private struct ValueReader {
    let file: String
    let values: [String: ConfigFile.Entry]

    func string(_ key: String) -> String? {
        guard let v = values[key]?.value, !v.isEmpty else { return nil }
        return v
    }

    /// A comma-separated list; nil when the key is not set. An empty value sets an empty list (a guest section
    /// can switch a target off with `webhook_url =`).
    func list(_ key: String) throws(ConfigError) -> (list: [String], entry: ConfigFile.Entry)? {
        guard let entry = values[key] else { return nil }
        let items = entry.value.split(separator: ",").map { $0.trimmed }.filter { !$0.isEmpty }
        return (items, entry)
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let v = string(key) else { return nil }
        switch v.lowercased() {
        case "1", "yes", "true", "on", "y": return true
        case "0", "no", "false", "off", "n": return false
        default: throw invalid(key, "expected yes or no")
        }
    }

    func integer(_ key: String, range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let v = string(key) else { return nil }
        guard let n = Int(v), range.contains(n) else {
            throw invalid(key, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    func seconds(_ key: String) throws(ConfigError) -> Duration? {
        guard let v = string(key) else { return nil }
        guard let s = Double(v), s > 0, s <= 3600 else {
            throw invalid(key, "expected seconds above 0 (fractions allowed, at most 3600)")
        }
        return .milliseconds(Int64((s * 1000).rounded()))
    }

    func path(_ key: String) throws(ConfigError) -> String? {
        guard let v = string(key) else { return nil }
        guard v.hasPrefix("/") else { throw invalid(key, "expected an absolute path") }
        return v
    }

    /// A plain `local@domain` address: the envelope and the header use it as written, so nothing in it may
    /// end a header or an SMTP command.
    func address(_ a: String, key: String) throws(ConfigError) {
        let forbidden: Set<Character> = ["<", ">", "(", ")", "[", "]", "\\", ",", ";", ":", "\"", " "]
        let parts = a.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            a.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }),
            !a.contains(where: { forbidden.contains($0) })
        else {
            throw invalid(
                key,
                "'\(ConfigError.excerpt(a))' is not a plain address like admin@example.org (ASCII, no display name)")
        }
    }

    func url(_ u: String, key: String, schemes: Set<String>) throws(ConfigError) {
        guard u.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }), let url = URL(string: u),
            let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty
        else {
            let expected = schemes.sorted().map { "\($0)://host" }.joined(separator: " or ")
            throw invalid(key, "'\(ConfigError.excerpt(u))' is not a URL (expected \(expected))")
        }
        guard schemes.contains(scheme) else {
            throw invalid(
                key, "'\(ConfigError.excerpt(u))': the scheme must be \(schemes.sorted().joined(separator: " or "))")
        }
        if url.user != nil || url.password != nil {
            throw invalid(
                key, "the URL holds credentials (not shown); put the user in smtp_user and secrets in a mode 0600 file")
        }
    }

    func invalid(_ key: String, _ why: String) -> ConfigError {
        let entry = values[key]
        return ConfigError(.invalidValue, file: file, line: entry?.line, key: key, why)
    }
}

/// Reads a secret from a file that only its owner can read, as heartbeat insists on for authkeys.
public enum SecretFile {
    /// The file's content without its trailing line end.
    /// - Throws: ``ConfigError`` naming the file: missing, not a regular file, readable or writable by group or
    ///   others (the message shows the mode and the `chmod` that fixes it), owned by another user, or empty.
    public static func read(_ path: String, key: String) throws(ConfigError) -> String {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let why = String(cString: strerror(errno))
            throw ConfigError(.notFound, file: path, line: nil, key: key, "cannot read the secret file: \(why)")
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw ConfigError(.invalidValue, file: path, line: nil, key: key, "the secret file is not a regular file")
        }
        let mode = st.st_mode & 0o7777
        guard mode & 0o077 == 0 else {
            throw ConfigError(
                .invalidValue, file: path, line: nil, key: key,
                "mode \(octal(mode)) lets other users read this secret; it must be 0600 or stricter "
                    + "(chmod 600 \(path))")
        }
        guard st.st_uid == geteuid() || st.st_uid == 0 else {
            throw ConfigError(
                .invalidValue, file: path, line: nil, key: key,
                "owned by uid \(st.st_uid); a secret must belong to root or to uid \(geteuid())")
        }
        guard let data = FileContents.read(path) else {
            throw ConfigError(.unreadable, file: path, line: nil, key: key, "cannot read the secret file")
        }
        var text = String(decoding: data, as: UTF8.self)
        while let last = text.last, last.isNewline { text.removeLast() }
        guard !text.isEmpty else {
            throw ConfigError(.invalidValue, file: path, line: nil, key: key, "the secret file is empty")
        }
        return text
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
