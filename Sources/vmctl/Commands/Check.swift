import ArgumentParser
import Foundation
import Libvirt
import VMManager

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration and every managed guest before a failover does.",
        discussion: """
            Checks the settings file (syntax, known keys, valid values, with file:line) and every guest that has a \
            [guest NAME] section or is defined on the host: its settings resolve; its domain XML file (`config`) \
            exists, parses and names the guest; its identity is pinned (the UUID and MACs defined here are the ones \
            any node derives from the XML); each node in its `peers` has the same UUID and MACs for it (asked \
            read-only, --peer-timeout each; an unreachable peer is a warning, not a failure); no other guest here uses \
            one of its MACs; its file and block disks exist; the guest agent channel (or a file serial console) is \
            present when its readiness policy or shutdown mode needs it.

            Prints one line per finding: OK, WARN or FAIL, the subject (config, a guest, a peer) and what was found. \
            Exits 0 when nothing failed (warnings allowed), 1 when anything failed, 3 when the local libvirt cannot be \
            reached (the configuration and XML files are still checked and printed).

            Examples:
              vmctl check
              vmctl check --config /etc/vmmanager/vmmanager.conf
              vmctl check --json | jq -r '.[] | select(.level == "FAIL") | .message'
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Option(help: ArgumentHelp("Seconds each peer may take to answer.", valueName: "seconds")) var peerTimeout: Double =
        5
    @Flag(help: "Print a JSON array of findings ({level, subject, message}) instead of lines.") var json = false

    func validate() throws {
        guard peerTimeout > 0 else { throw ValidationError("--peer-timeout must be above 0") }
    }

    func run() async throws {
        var host: Hypervisor?
        var unreachable: VMError?
        do { host = try await connection.connect(readOnly: true) } catch let error as VMError {
            unreachable = error
        }
        // The default file may be missing (the defaults apply); a file named with --config must exist.
        let named = agent.config == "/etc/vmmanager/vmmanager.conf" ? nil : agent.config
        let check = ConfigurationCheck(
            configFile: named, peerTimeout: seconds(peerTimeout),
            logger: connection.logger)
        var findings = await check.run(host: host)
        if let unreachable {
            findings.insert(CheckFinding(.failure, "libvirt", unreachable.message), at: 0)
        }
        if json {
            try Output.json(findings)
        } else {
            // Long subjects (peer URIs) do not widen the column for everyone.
            let width = findings.map(\.subject.count).filter { $0 <= 24 }.max() ?? 0
            for f in findings {
                let level = f.level.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)
                let paint: Paint = f.level == .ok ? .green : f.level == .warning ? .yellow : .red
                let subject = f.subject + ":" + String(repeating: " ", count: max(0, width - f.subject.count))
                say("\(paint.apply(level))  \(subject)  \(f.message)")
            }
            let failed = findings.filter { $0.level == .failure }.count
            let warned = findings.filter { $0.level == .warning }.count
            say("\(findings.count - failed - warned) OK, \(warned) warning(s), \(failed) failure(s)")
        }
        if unreachable != nil { throw ExitCode(3) }
        if findings.contains(where: { $0.level == .failure }) { throw ExitCode(1) }
    }
}
