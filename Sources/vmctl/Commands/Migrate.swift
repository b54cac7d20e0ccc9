import ArgumentParser
import Foundation
import Libvirt
import VMManager

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move a guest to another host, live by default.",
        discussion: """
            vmctl connects to both hosts and drives the migration (as `virsh migrate` does), then checks that the guest arrived running with the same UUID. With --p2p the source libvirtd connects to the destination URI itself instead. The guest stays defined (stopped) here unless --undefine-source. If the migration outlives --timeout it is aborted and the guest keeps running here.

            Examples:
              vmctl migrate web1 qemu+ssh://node2/system
              vmctl migrate web1 qemu+ssh://node2/system --migrate-uri tcp:10.0.0.2 --max-downtime 300
              vmctl migrate web1 qemu+ssh://node2/system --offline
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Guest name or UUID.") var guest: String
    @Argument(help: "libvirt URI of the destination host.") var destination: String
    @Flag(help: "Move only the definition of a stopped guest.") var offline = false
    @Option(help: "Where QEMU sends memory, e.g. tcp:10.0.0.2 (default: libvirt picks from the destination's hostname).")
    var migrateURI: String?
    @Option(help: "Longest pause the guest may see at switch-over, in ms.") var maxDowntime: Int?
    @Option(help: "Bandwidth cap in MiB/s.") var bandwidth: UInt64?
    @Flag(help: "Undefine the guest here afterwards.") var undefineSource = false
    @Flag(name: .customLong("p2p"), help: "Peer-to-peer: the source libvirtd connects to the destination itself.")
    var peerToPeer = false
    @Option(help: "Seconds before the migration is aborted.") var timeout: Double = 120

    func run() async throws {
        try await guarded {
            let host = try await connection.connect()
            let d = try await host.guest(guest)
            var options = MigrationOptions()
            options.offline = offline
            options.live = !offline
            options.migrateURI = migrateURI
            options.maxDowntime = maxDowntime.map { .milliseconds($0) }
            options.bandwidthMiBPerSecond = bandwidth
            options.undefineSource = undefineSource
            options.timeout = seconds(timeout)
            let tty = isatty(2) == 1
            let report = try await host.migrate(d, to: destination, options: options, peerToPeer: peerToPeer) { stats in
                guard tty, let total = stats.dataTotal, total > 0, let done = stats.dataProcessed else { return }
                let percent = min(100, Int(Double(done) * 100 / Double(total)))
                FileHandle.standardError.write(Data("\r\(d.name): \(percent)% of \(total / 1_048_576) MiB".utf8))
            }
            if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let downtime = report.downtimeMilliseconds.map { "\($0) ms" } ?? "not reported"
            say("\(d.name): migrated to \(destination) in \(report.duration.formattedSeconds), downtime \(downtime), "
                + "now \(report.destinationState) there")
        }
    }
}
