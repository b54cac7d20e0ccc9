import ArgumentParser
import Foundation
import Libvirt
import Logging
import VMManager

@main
enum Main {
    static func main() async {
        await VMCtl.main(hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
    }

    /// `vmctl --connect URI list` reads better than `vmctl list --connect URI`, and virsh users type it
    /// that way. The connection options belong to each subcommand, so options given before the
    /// subcommand name are moved after it.
    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        let takesValue: Set<String> = ["--connect", "-c", "--call-timeout"]
        let flags: Set<String> = ["--verbose", "-v"]
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let a = arguments[index]
            if takesValue.contains(a), index + 1 < arguments.count {
                leading += [a, arguments[index + 1]]
                index += 2
            } else if flags.contains(a) || takesValue.contains(where: { a.hasPrefix($0 + "=") }) {
                leading.append(a)
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty, index < arguments.count, !arguments[index].hasPrefix("-") else { return arguments }
        return [arguments[index]] + leading + arguments[(index + 1)...]
    }
}

struct VMCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vmctl",
        abstract: "Manage libvirt guests the way vmmanager's cluster agent does, by hand.",
        discussion: """
            Every command is a thin face over the same library the resource agent uses, so what you do here is what \
            the cluster would do.

            Examples:
              vmctl --connect test:///default list --all
              vmctl define guests/web1.xml --pin-identity
              vmctl start web1 --wait
              vmctl stop web1                 # managed save, else shutdown, else destroy
              vmctl migrate web1 qemu+ssh://node2/system --migrate-uri tcp:10.0.0.2

            Exit codes: 0 success, 1 failure, 2 guest not found, 3 libvirt unreachable, 4 timed out, 5 refused by a \
            safety check, 6 invalid input, 7 not running (status), 64 usage error. docs/vmctl.md and vmctl(8) describe \
            every command.
            """,
        version: "vmctl \(vmmanagerVersion)",
        subcommands: [
            List.self, Status.self, Define.self, Undefine.self, Start.self, Stop.self, Suspend.self, Resume.self,
            Save.self, Restore.self, Saved.self, WaitBoot.self, Migrate.self, Events.self, Check.self, Notify.self,
            Watch.self,
            Alert.self, Slots.self,
        ]
    )
}

/// Options every command that talks to libvirt takes.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: [.customShort("c"), .customLong("connect")],
        help: ArgumentHelp("libvirt URI of the host to manage.", valueName: "uri"))
    var uri: String = ProcessInfo.processInfo.environment["VMCTL_CONNECT"] ?? "qemu:///system"

    @Option(
        help: ArgumentHelp(
            "Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).",
            valueName: "seconds"))
    var callTimeout: Double = 30

    @Flag(name: .shortAndLong, help: "Log what vmctl does to stderr.")
    var verbose = false

    var logger: Logger {
        var logger = Logger(label: "vmctl") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }

    func connect(readOnly: Bool = false) async throws -> Hypervisor {
        try await Hypervisor.connect(
            uri, readOnly: readOnly, timeout: .milliseconds(Int64(callTimeout * 1000)), logger: logger)
    }
}

/// vmctl's exit codes; docs/vmctl.md lists them.
enum Exit {
    static func code(for error: VMError) -> ExitCode {
        switch error.code {
        case .notFound: ExitCode(2)
        case .unreachable: ExitCode(3)
        case .timedOut: ExitCode(4)
        case .refused: ExitCode(5)
        case .invalidInput, .misconfigured, .notInstalled: ExitCode(6)
        default: ExitCode(1)
        }
    }
}

extension AsyncParsableCommand {
    /// Runs a command body, printing a ``VMError`` (or a libvirt or configuration error, classified as one) as one
    /// line on stderr and exiting with its code. Any other error (ExitCode, a usage error) goes on as it is.
    func guarded(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            let classified =
                (error as? LibvirtError).map { VMError($0, doing: "libvirt") } ?? VMError(classifying: error)
            guard let classified else { throw error }
            FileHandle.standardError.write(Data("vmctl: \(classified.message)\n".utf8))
            throw Exit.code(for: classified)
        }
    }
}

func seconds(_ value: Double) -> Duration { .milliseconds(Int64(value * 1000)) }

/// Prints to stdout; vmctl's stdout carries results only (tables, JSON), never diagnostics.
func say(_ text: String) { print(text) }
