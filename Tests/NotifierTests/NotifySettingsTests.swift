import Foundation
import Testing
import VMManager

@Suite("Notify settings and secret files")
struct NotifySettingsTests {
    static func parse(_ text: String) throws -> ConfigFile {
        try ConfigFile.parse(text, path: "/etc/vmmanager/vmmanager.conf")
    }

    @Test("defaults: nothing configured means notifications off, TLS verified, STARTTLS when offered")
    func defaults() throws {
        let s = try NotifySettings.resolve(file: nil, guest: "web1")
        #expect(!s.isEnabled && s.targets.isEmpty)
        #expect(s.tlsVerify && s.smtpStartTLS == .yes)
        #expect(s.spoolDirectory == "/var/spool/vmmanager")
        #expect(s.webhookRetries == 3 && s.webhookTimeout == .seconds(10))
    }

    @Test("[notify] values, and a [guest NAME] section overrides them for its guest only")
    func overrides() throws {
        let file = try Self.parse(
            """
            [notify]
            mail_to = admins@example.org, ops@example.org
            mail_from = cluster@example.org
            smtp_url = smtps://mail.example.org:465
            smtp_user = vmmanager
            smtp_password_file = /etc/vmmanager/smtp.password
            webhook_url = https://hooks.example.org/a, https://hooks.example.org/b
            webhook_timeout = 2.5
            webhook_retries = 5
            spool_dir = /srv/spool

            [guest web1]
            config = web1.xml
            mail_to = web-team@example.org
            webhook_url =
            """)
        let node = try NotifySettings.resolve(file: file, guest: nil)
        #expect(node.mailTo == ["admins@example.org", "ops@example.org"])
        #expect(node.webhookURLs.count == 2 && node.webhookTimeout == .milliseconds(2500) && node.webhookRetries == 5)
        #expect(
            node.targets.map(\.description) == [
                "mail to admins@example.org, ops@example.org via smtps://mail.example.org:465",
                "webhook https://hooks.example.org/a", "webhook https://hooks.example.org/b",
            ])
        let web1 = try NotifySettings.resolve(file: file, guest: "web1")
        #expect(web1.mailTo == ["web-team@example.org"])
        #expect(web1.webhookURLs.isEmpty, "an empty value switches the guest's webhooks off")
        #expect(web1.mailFrom == "cluster@example.org" && web1.spoolDirectory == "/srv/spool")
        let db1 = try NotifySettings.resolve(file: file, guest: "db1")
        #expect(db1.mailTo == node.mailTo)
    }

    @Test(
        "errors name the file, the line and the key",
        arguments: [
            ("[notify]\nmail_too = a@example.org\n", 2, "mail_too", ConfigError.Kind.unknownKey),
            ("[notify]\nmail_to = a@example.org\nsmtp_url = http://x\n", 3, "smtp_url", .invalidValue),
            ("[notify]\n\nsmtp_starttls = maybe\n", 3, "smtp_starttls", .invalidValue),
            ("[notify]\nmail_to = Admin <a@example.org>\n", 2, "mail_to", .invalidValue),
            ("[notify]\nwebhook_url = https://user:pw@x.example/h\n", 2, "webhook_url", .invalidValue),
            ("[notify]\nwebhook_retries = -1\n", 2, "webhook_retries", .invalidValue),
            ("[notify]\nwebhook_timeout = 0\n", 2, "webhook_timeout", .invalidValue),
            ("[notify]\nspool_dir = relative/dir\n", 2, "spool_dir", .invalidValue),
            ("[notify]\nsmtp_user = u\n", 2, "smtp_user", .invalidValue),
            (
                "[notify]\nsmtp_url = smtp://mail.example.org\nsmtp_starttls = no\nsmtp_user = u\nsmtp_password_file = /p\n",
                3, "smtp_starttls", .invalidValue
            ),
            ("[notify]\nmail_to = a@example.org\n[guest web1]\nspool_dir = /x\n", 4, "spool_dir", .invalidValue),
        ])
    func errors(text: String, line: Int, key: String, kind: ConfigError.Kind) throws {
        let file = try Self.parse(text)
        #expect {
            _ = try NotifySettings.resolve(file: file, guest: "web1")
        } throws: { error in
            guard let e = error as? ConfigError else { return false }
            return e.kind == kind && e.line == line && e.key == key && e.file == "/etc/vmmanager/vmmanager.conf"
                && e.description.hasPrefix("/etc/vmmanager/vmmanager.conf:\(line): \(key): ")
        }
    }

    @Test("a password over plain SMTP to loopback is allowed (a local MTA)")
    func loopbackClearText() throws {
        let file = try Self.parse(
            "[notify]\nsmtp_url = smtp://127.0.0.1:25\nsmtp_starttls = no\nsmtp_user = u\nsmtp_password_file = /p\n")
        #expect(try NotifySettings.resolve(file: file, guest: nil).smtpUser == "u")
    }

    @Test(
        "a secret file readable by others is refused, naming the file and its mode",
        arguments: [0o644, 0o640, 0o604, 0o660])
    func secretModeRefused(mode: Int) throws {
        let scratch = try Scratch("secret")
        let path = try scratch.file("webhook.secret", "s3cret\n", mode: mode)
        #expect {
            _ = try SecretFile.read(path, key: "webhook_secret_file")
        } throws: { error in
            let text = "\(error)"
            return text.contains(path) && text.contains("mode 0\(String(mode, radix: 8))") && text.contains("chmod 600")
        }
    }

    @Test("a secret file of mode 0600 or 0400 is read without its line end", arguments: [0o600, 0o400])
    func secretModeAccepted(mode: Int) throws {
        let scratch = try Scratch("secret")
        let path = try scratch.file("webhook.secret", "s3cret\r\n", mode: mode)
        #expect(try SecretFile.read(path, key: "webhook_secret_file") == "s3cret")
    }

    @Test("a missing or empty secret file is refused")
    func secretMissing() throws {
        let scratch = try Scratch("secret")
        #expect(throws: ConfigError.self) { try SecretFile.read("\(scratch.path)/none", key: "k") }
        let empty = try scratch.file("empty", "\n")
        #expect(throws: ConfigError.self) { try SecretFile.read(empty, key: "k") }
    }

    @Test("the keys a guest section may override are every key but spool_dir")
    func keys() {
        #expect(NotifySettings.guestKeys == NotifySettings.keys.subtracting(["spool_dir"]))
        #expect(
            NotifySettings.keys.isSuperset(of: [
                "mail_to", "mail_from", "smtp_url", "smtp_starttls", "smtp_user", "smtp_password_file", "tls_verify",
                "webhook_url", "webhook_secret_file", "webhook_timeout", "webhook_retries", "spool_dir",
            ]))
    }
}
