import ArgumentParser
import Foundation
import Libvirt
import VMManager

extension ReadinessProbe: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "none": self = .none
        case "agent", "guest-agent": self = .guestAgent
        default: return nil
        }
    }
    public static var allValueStrings: [String] { ["guest-agent", "none"] }
}

struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a guest: resume it if paused, restore it if it has a managed-save image, else boot it.",
        discussion: """
            Does nothing to a guest that already runs. With --wait, returns only when the guest is ready (by default: its QEMU guest agent answers), as the cluster agent does before it lets the next guest start.

            Examples:
              vmctl start web1
              vmctl start web1 --wait --timeout 120
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Guest name or UUID.") var guest: String
    @Flag(help: "Wait until the guest is ready (its guest agent answers).") var wait = false
    @Option(help: "How to tell that it is ready, with --wait.") var probe: ReadinessProbe = .guestAgent
    @Option(help: "Seconds the whole start (and wait) may take.") var timeout: Double = 90

    func run() async throws {
        try await guarded {
            let host = try await connection.connect()
            let d = try await host.guest(guest)
            let outcome = try await host.start(d, readiness: wait ? probe : .none, timeout: seconds(timeout))
            var line = "\(d.name): \(outcome.how.rawValue)"
            if let ready = outcome.readyAfter { line += ", ready after \(ready.formattedSeconds) (\(probe))" }
            say(line + " [\(outcome.duration.formattedSeconds)]")
        }
    }
}

extension StopMethod: ExpressibleByArgument {}

struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a guest: managed save, else graceful shutdown, else destroy.",
        discussion: """
            The default chain suspends the guest to disk (its sessions survive the next start), falls back to a graceful shutdown, and destroys it as a last resort, all within --timeout. --mode runs a single method instead. A guest that is not running is left as it is (exit 0).

            Examples:
              vmctl stop web1
              vmctl stop web1 --mode shutdown --timeout 60
              vmctl stop web1 --mode destroy
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Guest name or UUID.") var guest: String
    @Option(help: "Use only this method (save, shutdown, destroy) instead of the chain.") var mode: StopMethod?
    @Option(help: "Seconds the whole stop may take.") var timeout: Double = 90

    func run() async throws {
        try await guarded {
            let host = try await connection.connect()
            let d = try await host.guest(guest)
            let policy = StopPolicy(methods: mode.map { [$0] } ?? StopPolicy.default.methods, timeout: seconds(timeout))
            let outcome = try await host.stop(d, policy: policy)
            guard let method = outcome.method else {
                say("\(d.name): not running; nothing to do")
                return
            }
            for failure in outcome.failures {
                FileHandle.standardError.write(Data("vmctl: \(failure.method) failed: \(failure.reason)\n".utf8))
            }
            say("\(d.name): stopped by \(method) [\(outcome.duration.formattedSeconds)]")
        }
    }
}

struct Suspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pause a guest's CPUs; its memory stays in RAM (see `save` to free the memory).",
        discussion: "Example:\n  vmctl suspend web1")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Guest name or UUID.") var guest: String

    func run() async throws {
        try await guarded {
            let host = try await connection.connect()
            let d = try await host.guest(guest)
            if try await d.state().kind == .paused {
                say("\(d.name): already paused")
                return
            }
            try await d.suspend()
            say("\(d.name): paused")
        }
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume a paused guest.", discussion: "Example:\n  vmctl resume web1")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Guest name or UUID.") var guest: String

    func run() async throws {
        try await guarded {
            let host = try await connection.connect()
            let d = try await host.guest(guest)
            if try await d.state().kind != .paused {
                say("\(d.name): not paused (\(try await d.state())); nothing to do")
                return
            }
            try await d.resume()
            say("\(d.name): resumed")
        }
    }
}

struct Save: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save a running guest's memory to disk and stop it; `restore` (or `start`) resumes it.",
        discussion: """
            Without --file, uses libvirt's managed-save image (persistent guests). With --file, writes the image to that path, e.g. on shared storage so another host can restore it.

            Examples:
              vmctl save web1
              vmctl save web1 --file /shared/saves/web1.save
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Guest name or UUID.") var guest: String
    @Option(help: "Write the image to this file instead of the managed-save location.") var file: String?
    @Option(help: "Seconds the save may take.") var timeout: Double = 120

    func run() async throws {
        try await guarded {
            let host = try await connection.connect()
            let d = try await host.guest(guest)
            let clock = ContinuousClock()
            let started = clock.now
            guard try await d.state().isActive else {
                throw VMError(.refused, "guest \(d.name) is not running; there is nothing to save")
            }
            if let file {
                try await d.save(to: file, flags: .running, timeout: seconds(timeout))
            } else {
                try await d.managedSave(flags: .running, timeout: seconds(timeout))
            }
            say("\(d.name): saved\(file.map { " to \($0)" } ?? "") [\((clock.now - started).formattedSeconds)]")
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume a guest from its saved image.",
        discussion: """
            Refuses (exit 5) when the guest has no managed-save image, rather than cold-booting it:
            use `start` for that.

            Examples:
              vmctl restore web1 --wait
              vmctl restore --file /shared/saves/web1.save
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Guest name or UUID (not needed with --file).") var guest: String?
    @Option(help: "Restore from this file (written by `save --file`).") var file: String?
    @Flag(help: "Wait until the guest agent answers.") var wait = false
    @Option(help: "Seconds the restore (and wait) may take.") var timeout: Double = 120

    func validate() throws {
        if guest == nil && file == nil { throw ValidationError("name a guest, or give --file") }
    }

    func run() async throws {
        try await guarded {
            let host = try await connection.connect()
            if let file {
                try await host.connection.restoreDomain(from: file, flags: .running, timeout: seconds(timeout))
                say("restored from \(file)")
                return
            }
            let d = try await host.guest(guest!)
            guard try await d.hasManagedSaveImage() else {
                throw VMError(.refused, "guest \(d.name) has no managed-save image; `vmctl start \(d.name)` boots it")
            }
            let outcome = try await host.start(d, readiness: wait ? .guestAgent : .none, timeout: seconds(timeout))
            var line = "\(d.name): \(outcome.how.rawValue)"
            if let ready = outcome.readyAfter { line += ", agent answered after \(ready.formattedSeconds)" }
            say(line + " [\(outcome.duration.formattedSeconds)]")
        }
    }
}
