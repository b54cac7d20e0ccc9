import ArgumentParser
import Foundation
import Libvirt
import VMManager

extension ReadinessProbe: ExpressibleByArgument {
    public init?(argument: String) {
        guard case .probe(let p)? = try? ReadinessSetting.parse(argument) else { return nil }
        self = p
    }
    public static var allValueStrings: [String] {
        ["guest-agent", "serial:REGEX", "tcp:HOST:PORT", "uptime:N/M", "exec:COMMAND", "none"]
    }
}

extension StopMethod: ExpressibleByArgument {}

/// Options of the commands that act like the agent: the configuration file they share with it.
struct AgentSettingsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("vmmanager configuration file (the agent's).", valueName: "path"))
    var config: String = "/etc/vmmanager/vmmanager.conf"

    /// The guest's settings exactly as the agent would resolve them, with vmctl's `--connect` as the
    /// hypervisor and `overrides` on top.
    func controller(
        for guest: String, connection: ConnectionOptions, overrides: [String: String] = [:]
    )
        throws -> GuestController
    {
        var parameters = overrides
        parameters["domain"] = guest
        parameters["hypervisor"] = connection.uri
        if config != "/etc/vmmanager/vmmanager.conf" || FileManager.default.fileExists(atPath: config) {
            parameters["conf_file"] = config
        }
        let settings: GuestSettings
        do { settings = try GuestSettings.resolve(parameters: parameters, parameterPrefix: "--") } catch {
            throw VMError(error)
        }
        // An admin's actions are reported like the cluster's, marked as coming from vmctl.
        let reporter = NotifyingReporter(
            notifier: Notifier(configuration: settings.file, logger: connection.logger),
            source: .vmctl, logger: connection.logger)
        return GuestController(settings: settings, reporter: reporter, logger: connection.logger)
    }
}

struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a guest: resume it if paused, restore it if it has a saved image, else boot it.",
        discussion: """
            The same start as the cluster agent's: the guest is defined from its XML when the configuration names one, \
            the start guard refuses a guest that runs on a peer, a saved image that fails to restore is kept aside and \
            the guest cold-booted. A guest that already runs is left alone. With --wait, returns only when the guest \
            is ready, by --probe or else by the guest's readiness setting (by default: its guest agent answers).

            Examples:
              vmctl start web1
              vmctl start web1 --wait --timeout 120
              vmctl start web1 --wait --probe tcp:192.0.2.10:80
              vmctl start web1 --force-boot      # cold boot; a saved image is kept aside, not lost
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Argument(help: "Guest name or UUID.") var guest: String
    @Flag(help: "Wait until the guest is ready.") var wait = false
    @Option(help: "How to tell that it is ready, with --wait (default: the guest's readiness setting).")
    var probe: ReadinessProbe?
    @Flag(help: "Cold-boot instead of restoring a saved image (the image is kept in the quarantine directory).")
    var forceBoot = false
    @Option(help: "Seconds the whole start (and wait) may take.") var timeout: Double = 120

    func run() async throws {
        try await guarded {
            let name = try await resolveName(guest, connection)
            var overrides: [String: String] = [:]
            if !wait {
                overrides["readiness"] = "none"
            } else if let probe {
                overrides["readiness"] = probe.description
            }
            let controller = try agent.controller(for: name, connection: connection, overrides: overrides)
            let outcome =
                forceBoot
                ? try await controller.coldBoot(budget: seconds(timeout))
                : try await controller.start(budget: seconds(timeout))
            report(outcome, of: name)
        }
    }
}

struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a guest: managed save, else graceful shutdown, else destroy.",
        discussion: """
            The same stop as the cluster agent's: the chain (stop_methods, by default save, shutdown, destroy) runs \
            within --timeout, with time kept back for destroy; if libvirtd does not answer, the guest's QEMU process \
            is killed as a last resort. --mode runs a single method instead. A guest that is not running is left as it \
            is (exit 0).

            Examples:
              vmctl stop web1
              vmctl stop web1 --mode shutdown --timeout 60
              vmctl stop web1 --mode destroy
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Argument(help: "Guest name or UUID.") var guest: String
    @Option(help: "Use only this method (save, shutdown, destroy) instead of the chain.") var mode: StopMethod?
    @Option(help: "Seconds the whole stop may take.") var timeout: Double = 90

    func run() async throws {
        try await guarded {
            let name = try await resolveName(guest, connection)
            let controller = try agent.controller(
                for: name, connection: connection,
                overrides: mode.map { ["stop_methods": $0.rawValue] } ?? [:])
            let outcome = try await controller.stop(budget: seconds(timeout))
            guard let method = outcome.method else {
                say("\(name): not running; nothing to do")
                return
            }
            for failure in outcome.failures { note("\(failure.method) failed: \(failure.reason)") }
            say("\(name): stopped by \(method) [\(outcome.duration.formattedSeconds)]")
        }
    }
}

/// Runs `body` on a guest while holding the same per-guest lock as the cluster agent.
func withGuestLock(
    _ name: String, _ agent: AgentSettingsOptions, _ connection: ConnectionOptions, purpose: String,
    _ body: (Domain) async throws -> Void
) async throws {
    let controller = try agent.controller(for: name, connection: connection)
    let lock = try await FileLock.acquire(
        guest: name, directory: controller.settings.lockDirectory,
        timeout: .seconds(30), purpose: "vmctl \(purpose)")
    defer { lock.release() }
    let host = try await connection.connect()
    try await body(try await host.guest(name))
}

/// A guest named by name or UUID, as its name (locks and settings are by name).
func resolveName(_ reference: String, _ connection: ConnectionOptions) async throws -> String {
    guard UUID(uuidString: reference) != nil else { return reference }
    return try await connection.connect(readOnly: true).guest(reference).name
}

/// Prints how a start went: one line on stdout, a kept-aside image on stderr.
func report(_ outcome: StartOutcome, of name: String) {
    var line = "\(name): \(outcome.how.rawValue)"
    if let ready = outcome.readyAfter { line += ", ready after \(ready.formattedSeconds)" }
    say(line + " [\(outcome.duration.formattedSeconds)]")
    if let why = outcome.restoreFailure { note(why) }
}

/// A remark on stderr (stdout carries results only).
func note(_ text: String) { FileHandle.standardError.write(Data("vmctl: \(text)\n".utf8)) }

struct Suspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pause a guest's CPUs; its memory stays in RAM (`save` frees the memory).",
        discussion: "Example:\n  vmctl suspend web1")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Argument(help: "Guest name or UUID.") var guest: String

    func run() async throws {
        try await guarded {
            let name = try await resolveName(guest, connection)
            try await withGuestLock(name, agent, connection, purpose: "suspend") { d in
                let state = try await d.state()
                if state.kind == .paused { return say("\(name): already paused") }
                guard state.isActive else { throw VMError(.refused, "guest \(name) is not running (\(state))") }
                try await d.suspend()
                say("\(name): paused")
            }
        }
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume a paused guest.", discussion: "Example:\n  vmctl resume web1")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Argument(help: "Guest name or UUID.") var guest: String

    func run() async throws {
        try await guarded {
            let name = try await resolveName(guest, connection)
            try await withGuestLock(name, agent, connection, purpose: "resume") { d in
                let state = try await d.state()
                guard state.kind == .paused else { return say("\(name): not paused (\(state)); nothing to do") }
                try await d.resume()
                say("\(name): resumed")
            }
        }
    }
}

struct Save: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save a running guest's memory to disk and stop it; `start` (or `restore`) resumes it.",
        discussion: """
            Without --file, saves exactly as the agent's stop chain does: to the guest's saved state (by default \
            beside its domain XML, so the node that takes the guest over can resume it; saved_state=managed: libvirt's \
            managed-save image), with the provenance record that lets the next start tell a current image from a stale \
            one. A guest that cannot be saved keeps running (exit 1). With --file, writes a bare image to that path, \
            outside vmmanager's bookkeeping: `vmctl restore --file` brings it back.

            Examples:
              vmctl save web1
              vmctl save web1 --file /srv/backup/web1.save
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Argument(help: "Guest name or UUID.") var guest: String
    @Option(help: "Write a bare image to this file instead of the guest's saved state.") var file: String?
    @Option(help: "Seconds the save may take.") var timeout: Double = 120

    func run() async throws {
        try await guarded {
            let name = try await resolveName(guest, connection)
            if let file {
                try await withGuestLock(name, agent, connection, purpose: "save") { d in
                    let clock = ContinuousClock()
                    let started = clock.now
                    guard try await d.state().isActive else {
                        throw VMError(.refused, "guest \(name) is not running; there is nothing to save")
                    }
                    try await d.save(to: file, flags: .running, timeout: seconds(timeout))
                    say("\(name): saved to \(file) [\((clock.now - started).formattedSeconds)]")
                }
                return
            }
            let controller = try agent.controller(
                for: name, connection: connection, overrides: ["stop_methods": "save"])
            let outcome = try await controller.stop(budget: seconds(timeout), lastResort: false)
            guard outcome.method != nil else {
                throw VMError(.refused, "guest \(name) is not running; there is nothing to save")
            }
            say(
                "\(name): saved to \(controller.savedStateStore(for: name).location) "
                    + "[\(outcome.duration.formattedSeconds)]"
            )
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume a guest from its saved image.",
        discussion: """
            Refuses (exit 5) when the guest has no current saved image, rather than cold-booting it: use `start` for \
            that. A failed restore keeps the image aside and cold-boots the guest, as the agent does.

            Examples:
              vmctl restore web1 --wait
              vmctl restore --file /shared/saves/web1.save
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Argument(help: "Guest name or UUID (not needed with --file).") var guest: String?
    @Option(help: "Restore from this file (written by `save --file`).") var file: String?
    @Flag(help: "Wait until the guest is ready (its readiness setting).") var wait = false
    @Option(help: "Seconds the restore (and wait) may take.") var timeout: Double = 120

    func validate() throws {
        if guest == nil && file == nil { throw ValidationError("name a guest, or give --file") }
    }

    func run() async throws {
        try await guarded {
            if let file {
                let host = try await connection.connect()
                try await host.connection.restoreDomain(from: file, flags: .running, timeout: seconds(timeout))
                say("restored from \(file)")
                return
            }
            let name = try await resolveName(guest!, connection)
            let host = try await connection.connect()
            let controller = try agent.controller(
                for: name, connection: connection,
                overrides: wait ? [:] : ["readiness": "none"])
            let images = try await controller.savedImages(of: try await host.guest(name))
            guard images.contains(where: { $0.verdict.isCurrent }) else {
                throw VMError(
                    .refused,
                    images.isEmpty
                        ? "guest \(name) has no saved image; `vmctl start \(name)` boots it"
                        : "guest \(name) has no current saved image (`vmctl saved \(name)` says why); "
                            + "`vmctl start \(name)` puts the stale ones in quarantine and boots it")
            }
            let outcome = try await controller.start(budget: seconds(timeout))
            report(outcome, of: name)
        }
    }
}
