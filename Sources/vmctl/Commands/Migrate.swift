import ArgumentParser
import Dispatch
import Foundation
import Libvirt
import Synchronization
import VMManager

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move a guest to another host, live by default.",
        discussion: """
            vmctl connects to both hosts and drives the migration (as `virsh migrate` does), then checks that the \
            guest arrived running with the same UUID. With --p2p the source libvirtd connects to the destination URI \
            itself instead. On a terminal a progress bar shows the data left, the rate and the time to go. Ctrl-C (or \
            --timeout) aborts the migration job: the guest keeps running here. The guest stays defined (stopped) here \
            unless --undefine-source.

            Examples:
              vmctl migrate web1 qemu+ssh://node2/system
              vmctl migrate web1 qemu+ssh://node2/system --migrate-uri tcp:10.0.0.2 --max-downtime 300
              vmctl migrate web1 qemu+ssh://node2/system --offline

            Exit codes: 0 migrated, 4 timed out (aborted), 130 aborted by Ctrl-C, others as for every command.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Argument(help: "Guest name or UUID.") var guest: String
    @Argument(help: "libvirt URI of the destination host.") var destination: String
    @Flag(help: "Move only the definition of a stopped guest.") var offline = false
    @Option(
        help: "Where QEMU sends memory, e.g. tcp:10.0.0.2 (default: libvirt picks from the destination's hostname).")
    var migrateURI: String?
    @Option(help: "Longest pause the guest may see at switch-over, in ms.") var maxDowntime: Int?
    @Option(help: "Bandwidth cap in MiB/s.") var bandwidth: UInt64?
    @Flag(help: "Undefine the guest here afterwards.") var undefineSource = false
    @Flag(name: .customLong("p2p"), help: "Peer-to-peer: the source libvirtd connects to the destination itself.")
    var peerToPeer = false
    @Option(help: "Seconds before the migration is aborted.") var timeout: Double = 120

    func run() async throws {
        var interrupted = false
        try await guarded {
            let name = try await resolveName(guest, connection)
            try await withGuestLock(name, agent, connection, purpose: "migrate") { d in
                let host = try await connection.connect()
                var options = MigrationOptions()
                options.offline = offline
                options.live = !offline
                options.migrateURI = migrateURI
                options.maxDowntime = maxDowntime.map { .milliseconds($0) }
                options.bandwidthMiBPerSecond = bandwidth
                options.undefineSource = undefineSource
                options.timeout = seconds(timeout)
                options.progressInterval = .milliseconds(250)
                let bar = ProgressBar(enabled: isatty(2) == 1, label: name)
                let interrupt = Interrupt { [d] in
                    bar.finish("aborting the migration (Ctrl-C)…")
                    Task { try? await d.abortJob() }
                }
                defer { interrupt.cancel() }
                do {
                    let report = try await host.migrate(d, to: destination, options: options, peerToPeer: peerToPeer) {
                        bar.update($0)
                    }
                    bar.finish(nil)
                    let downtime = report.downtimeMilliseconds.map { "\($0) ms" } ?? "not reported"
                    say(
                        "\(name): migrated to \(destination) in \(report.duration.formattedSeconds), downtime "
                            + "\(downtime), "
                            + "now \(report.destinationState) there")
                } catch {
                    bar.finish(nil)
                    if interrupt.fired {
                        interrupted = true
                        let state = (try? await d.state()).map { "\($0)" } ?? "unknown"
                        note("migration of \(name) aborted by Ctrl-C; the guest is \(state) here")
                        return
                    }
                    throw error
                }
            }
        }
        if interrupted { throw ExitCode(130) }
    }
}

/// A one-line progress bar on stderr, only on a terminal: percent, data left, rate, time to go.
final class ProgressBar: Sendable {
    private let enabled: Bool
    private let label: String
    /// Whether a bar is on the line; updates come from the migration's polling task, `finish` from the command.
    private let drawn = Mutex(false)

    init(enabled: Bool, label: String) {
        self.enabled = enabled
        self.label = label
    }

    func update(_ stats: JobStats) {
        guard enabled, let total = stats.dataTotal, total > 0 else { return }
        let done = stats.dataProcessed ?? 0
        let left = stats.dataRemaining ?? (total > done ? total - done : 0)
        let fraction = min(1, Double(done) / Double(total))
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        var line = "\(label) [\(bar)] \(Int(fraction * 100))%  \(mib(left)) MiB left"
        if let rate = stats.memoryBytesPerSecond, rate > 0 {
            line += "  \(mib(rate)) MiB/s  ETA \(Int((Double(left) / Double(rate)).rounded(.up))) s"
        }
        drawn.withLock { drawn in
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
            drawn = true
        }
    }

    func finish(_ message: String?) {
        drawn.withLock { drawn in
            if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            drawn = false
            if let message, enabled { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
        }
    }

    private func mib(_ bytes: UInt64) -> String {
        let v = Double(bytes) / 1_048_576
        return v >= 10 ? "\(Int(v.rounded()))" : String(format: "%.1f", v)
    }
}

/// Turns SIGINT into a callback (once) for as long as it lives; the default handling comes back after.
final class Interrupt: @unchecked Sendable {
    // @unchecked: only for `source`, a Dispatch source (thread-safe, but not marked Sendable on Linux), set
    // once in init and then only cancelled; `wasFired` is atomic.
    private let source: DispatchSourceSignal
    private let wasFired = Atomic<Bool>(false)

    init(_ handler: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [unowned self] in
            let first = !wasFired.exchange(true, ordering: .acquiringAndReleasing)
            if first { handler() }
        }
        source.resume()
    }

    var fired: Bool { wasFired.load(ordering: .acquiring) }

    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
