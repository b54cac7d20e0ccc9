import ArgumentParser
import Foundation
import Logging
import VMManager
import VMManagerDelivery

struct Notify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Test, flush and list the transition notifications (e-mail and webhooks).",
        discussion: """
            Every transition is first written to the spool (spool_dir, default /var/spool/vmmanager), then delivered; \
            an event leaves the spool once every target accepted it. See docs/notifications.md.

            Examples:
              vmctl notify test                # to every target; says what each answered
              vmctl notify test --guest web1   # with the overrides of [guest web1]
              vmctl notify flush               # exit 0 when nothing is left
              vmctl notify list --json
            """,
        subcommands: [NotifyTest.self, NotifyFlush.self, NotifyList.self, NotifyBench.self])
}

/// Options of every `notify` command.
struct NotifyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("vmmanager configuration file.", valueName: "path"))
    var config: String = NotifySettings.defaultConfigPath

    @Flag(name: .shortAndLong, help: "Log what the notifier does to stderr.")
    var verbose = false

    var logger: Logger {
        var logger = Logger(label: "vmctl.notify") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .error
        return logger
    }

    /// The notifier of the configuration, which must exist and parse (a wrong path must not look like
    /// "nothing configured").
    func notifier() throws -> Notifier {
        do {
            _ = try ConfigFile.load(config)
        } catch {
            FileHandle.standardError.write(Data("vmctl: \(error)\n".utf8))
            throw ExitCode(6)
        }
        let notifier = Notifier.load(configPath: config, logger: logger)
        if let error = notifier.configurationError {
            FileHandle.standardError.write(Data("vmctl: \(error)\n".utf8))
            throw ExitCode(6)
        }
        return notifier
    }
}

struct NotifyTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send a test message to every configured target and say what each one answered.",
        discussion: """
            Nothing is spooled: the message goes out now, and a failure is shown, not retried. Exits 0 when every \
            target accepted it, 1 otherwise, 6 when the configuration is wrong.

            Examples:
              vmctl notify test
              vmctl notify test --guest web1 --config /etc/vmmanager/vmmanager.conf
            """)

    @OptionGroup var options: NotifyOptions
    @Option(
        help: ArgumentHelp(
            "Use this guest's [guest NAME] overrides and name it in the message.",
            valueName: "name"))
    var guest: String?

    func run() async throws {
        let notifier = try options.notifier()
        let event = TransitionEvent(
            transition: .test, guest: guest, reason: "a test message sent by `vmctl notify test`; nothing happened",
            configPath: options.config, source: .test)
        let results: [DeliveryResult]
        do { results = try await notifier.send(event) } catch {
            FileHandle.standardError.write(Data("vmctl: \(error)\n".utf8))
            throw ExitCode(6)
        }
        if results.isEmpty {
            let scope = guest.map { "[notify] or [guest \($0)]" } ?? "[notify]"
            let hint = "set mail_to or webhook_url in \(scope) of \(options.config)"
            FileHandle.standardError.write(Data("vmctl: no target configured: \(hint)\n".utf8))
            throw ExitCode(6)
        }
        for r in results {
            say("\(r.target): \(r.accepted ? "accepted" : "FAILED") — \(r.detail)")
        }
        say("event id \(event.id.uuidString.lowercased())")
        if results.contains(where: { !$0.accepted }) { throw ExitCode(1) }
    }
}

struct NotifyFlush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Deliver the spooled events; exit 0 when none is left.",
        discussion: """
            Each event goes to every target that has not accepted it yet; a target that fails is not tried again in \
            the same flush. Exits 0 when the spool is empty afterwards, 1 when events remain, 6 when the configuration \
            is wrong.

            The agent starts `vmctl notify flush --background` after each transition: detached, silent, and leaving at \
            once when another flush is running (that one delivers the new event too).

            Examples:
              vmctl notify flush
              vmctl notify flush --config /etc/vmmanager/vmmanager.conf
            """)

    @OptionGroup var options: NotifyOptions
    @Flag(help: "Started by the agent: no output, and do not wait for a flush that is already running.")
    var background = false

    func run() async throws {
        if background {
            // Nobody reads the output; the log is the only witness.
            let notifier = Notifier.load(configPath: options.config, logger: options.logger)
            let report = await notifier.deliverPending(waitForOtherFlush: false)
            if !report.allDelivered && !report.busy { throw ExitCode(1) }
            return
        }
        let notifier = try options.notifier()
        let report = await notifier.deliverPending(waitForOtherFlush: true)
        say(
            "delivered \(report.delivered), still spooled \(report.remaining)"
                + (report.dropped > 0 ? ", dropped \(report.dropped) (no target configured)" : "")
                + (report.corrupt > 0 ? ", \(report.corrupt) unreadable (moved aside as .corrupt)" : ""))
        for (target, error) in report.failures.sorted(by: { $0.key < $1.key }) {
            say("  \(target): \(error)")
        }
        for error in report.configurationErrors { say("  configuration: \(error)") }
        if let error = report.spoolError { say("  spool: \(error)") }
        if !report.allDelivered { throw ExitCode(1) }
    }
}

struct NotifyList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the spooled events, with the targets still to reach and their last error.",
        discussion: """
            Examples:
              vmctl notify list
              vmctl notify list --json
            """)

    @OptionGroup var options: NotifyOptions
    @Flag(help: "Print JSON (an array of objects) instead of a table.") var json = false

    struct Row: Encodable {
        let file: String
        let event: TransitionEvent?
        let delivered: [String: Date]
        let attempts: [String: SpooledEvent.Attempt]
        let pending: [String]
        let error: String?
    }

    func run() async throws {
        let notifier = try options.notifier()
        var rows: [Row] = []
        for entry in notifier.pending() {
            switch entry.content {
            case .success(let s):
                let targets = (try? notifier.settings(forGuest: s.event.guest).targets) ?? []
                let pending = targets.filter { s.delivered[$0.key] == nil }.map(\.key)
                rows.append(
                    Row(
                        file: entry.path, event: s.event, delivered: s.delivered, attempts: s.attempts,
                        pending: pending, error: nil))
            case .failure(let e):
                rows.append(
                    Row(
                        file: entry.path, event: nil, delivered: [:], attempts: [:], pending: [],
                        error: e.description))
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            say(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        if rows.isEmpty {
            say("the spool (\(notifier.spoolDirectory)) is empty")
            return
        }
        var table = [["TIME", "EVENT", "ID", "WAITING FOR", "LAST ERROR"]]
        for row in rows {
            guard let e = row.event else {
                table.append(["?", "unreadable: \(row.file)", "-", "-", row.error ?? ""])
                continue
            }
            let lastError = row.attempts.values.max { $0.last < $1.last }
            table.append([
                EventText.iso8601(e.timestamp), e.subject, String(e.id.uuidString.lowercased().prefix(8)),
                row.pending.isEmpty ? "-" : row.pending.joined(separator: "; "),
                lastError.map { "\($0.lastError) (\($0.count)x)" } ?? "-",
            ])
        }
        say(formatTable(table))
    }
}

/// The numbers of `make bench` (bench/notifier.sh): hidden, since it spools and sends synthetic events.
struct NotifyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the notifier against a running SMTP server (used by bench/notifier.sh).",
        shouldDisplay: false)

    @OptionGroup var options: NotifyOptions
    @Option(help: "Events per measurement.") var count = 20
    @Option(help: "Directory where the SMTP test server writes one <n>.json per accepted message.")
    var captureDirectory: String

    struct Result: Encodable {
        var inProcessMilliseconds: [Double] = []
        var detachedMilliseconds: [Double] = []
        var recordMilliseconds: [Double] = []
        var recordPerSecond = 0.0
        var flushPerSecond = 0.0
        var flushDelivered = 0
        var count = 0
    }

    func run() async throws {
        let notifier = try options.notifier()
        var result = Result()
        result.count = count
        _ = await notifier.deliverPending()

        // (a1) record, then flush in this process: until the SMTP server accepted the message.
        for i in 0..<count {
            let e = event("latency \(i)")
            let t0 = Date()
            notifier.record(e)
            let report = await notifier.deliverPending()
            guard report.delivered == 1 else { throw ValidationError("flush did not deliver: \(report.failures)") }
            let accepted = try await acceptedAt(e.id, timeout: 10)
            result.inProcessMilliseconds.append(accepted.timeIntervalSince(t0) * 1000)
        }
        // (a2) as the agent does it: record, detached `vmctl notify flush`, until the server accepted it.
        for i in 0..<count {
            let e = event("detached \(i)")
            let t0 = Date()
            notifier.recordAndFlush(e, flushExecutable: Notifier.currentExecutable)
            let accepted = try await acceptedAt(e.id, timeout: 30)
            result.detachedMilliseconds.append(accepted.timeIntervalSince(t0) * 1000)
            try await Task.sleep(for: .milliseconds(50))  // let the detached flush exit
        }
        // (b) throughput: record N, then one flush delivers them all.
        let n = count * 10
        let start = Date()
        for i in 0..<n {
            let t0 = Date()
            notifier.record(event("throughput \(i)"))
            result.recordMilliseconds.append(Date().timeIntervalSince(t0) * 1000)
        }
        result.recordPerSecond = Double(n) / Date().timeIntervalSince(start)
        let flushStart = Date()
        let report = await notifier.deliverPending()
        result.flushPerSecond = Double(report.delivered) / Date().timeIntervalSince(flushStart)
        result.flushDelivered = report.delivered
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        say(String(decoding: try encoder.encode(result), as: UTF8.self))
    }

    private func event(_ reason: String) -> TransitionEvent {
        TransitionEvent(
            transition: .up, guest: "bench1", reason: reason, newState: "running (booted)",
            durations: .init(bootWaitSeconds: 1.5), source: .test)
    }

    /// When the server accepted the message of `id` (the capture handler's `received_at`).
    private func acceptedAt(_ id: UUID, timeout: Double) async throws -> Date {
        let deadline = Date().addingTimeInterval(timeout)
        let wanted = id.uuidString.lowercased()
        while Date() < deadline {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: captureDirectory)) ?? []
            where name.hasSuffix(".json") {
                let path = "\(captureDirectory)/\(name)"
                guard let data = FileContents.read(path),
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                    (object["event_id"] as? String) == wanted, let at = object["received_at"] as? Double
                else { continue }
                try? FileManager.default.removeItem(atPath: path)
                try? FileManager.default.removeItem(atPath: path.replacingOccurrences(of: ".json", with: ".eml"))
                return Date(timeIntervalSince1970: at)
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw ValidationError("the SMTP server did not receive event \(wanted) within \(timeout) s")
    }
}
