import ArgumentParser
import Foundation
import Libvirt
import VMManager

struct WaitBoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait-boot",
        abstract: "Wait until a running guest is ready by its readiness policy.",
        discussion: """
            The same wait the resource agent does before it reports a start done (and the cluster starts the next \
            guest). The policy is --probe, else the guest's `readiness` setting from --config (default auto: the guest \
            agent when the guest's XML has its channel, else no wait).

            Policies (--probe, or the readiness setting): guest-agent (the QEMU guest agent answers guest-ping), \
            tcp:HOST:PORT (the port accepts a connection), serial:REGEX (a line of the guest's file serial console \
            matches; by default any line in the log, with --new-lines only lines written from now on), uptime:N/M (a \
            timer: N s after a cold boot, M s after a resume or restore, counted from now), exec:COMMAND (a container's: \
            the command, run by /bin/sh inside the container's namespaces, exits 0), none; the setting may also be \
            auto.

            Exits 0 when ready, 4 when --timeout passed first, 1 when the guest is not running or stops while waiting, \
            2 when there is no such guest, 6 for a policy the guest cannot meet (serial: without a file console, \
            exec: on a VM) or a broken --config, 64 for a --probe that does not parse.

            Examples:
              vmctl wait-boot web1
              vmctl wait-boot web1 --probe tcp:192.0.2.10:22 --timeout 300
              vmctl start web1 && vmctl wait-boot web1 --probe 'serial:login:' --timeout 120
              vmctl wait-boot mail1 -c lxc:///system --probe 'exec:test -S /run/postfix.sock'
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Argument(help: "Guest name or UUID.", completion: guestNameCompletion) var guest: String
    @Option(
        help: ArgumentHelp("How to tell it is ready (default: the guest's readiness setting).", valueName: "policy"))
    var probe: ReadinessProbe?
    @Option(help: ArgumentHelp("Seconds to wait.", valueName: "seconds")) var timeout: Double = 120
    @Flag(help: "serial: count only console lines written from now on.") var newLines = false

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be above 0") }
    }

    func run() async throws {
        try await guarded {
            let host = try await connection.connect()
            let d = try await host.guest(guest)
            let definition = try? DomainDefinition(xml: try await d.xml())
            let policy =
                try probe
                ?? agent.controller(for: d.name, connection: connection).settings.readiness
                .probe(for: definition)
            let state = try await d.state()
            guard state.isActive else {
                throw VMError(
                    .failed,
                    "guest \(d.name) is \(state), not running; `vmctl start \(d.name) --wait` "
                        + "starts it and waits")
            }
            let serialLog = definition?.serials.first(where: { $0.type == "file" })?.sourcePath
            let context = BootContext(
                coldBoot: !(state.isRunningRestored || state.isRunningMigrated || state.kind == .paused),
                serialLog: serialLog,
                serialOffset: newLines ? serialLog.map(Self.size(of:)) ?? 0 : 0)
            let waited = try await BootWait.waitUntilReady(
                d, probe: policy, timeout: seconds(timeout),
                context: context)
            say("\(d.name): ready (\(policy)) after \(waited.formattedSeconds)")
        }
    }

    static func size(of path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }
}
