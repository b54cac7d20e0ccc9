/// VirtualDomain's `monitor_scripts`: the admin's own health checks of a running guest (is the database
/// answering?), run one after another after libvirt says the guest runs. VirtualDomain's contract: the
/// first script that exits non-zero fails the monitor, and its output becomes the exit reason. Each
/// script gets its share of the time left in the operation and is killed (with its process group) when
/// that runs out, which counts as a failure.
public struct MonitorScripts: Sendable, Hashable {
    public let paths: [String]

    public init(_ paths: [String]) { self.paths = paths }

    /// Parses the parameter: paths separated by white space (as VirtualDomain's shell loop splits them).
    public static func parse(_ text: String) -> MonitorScripts {
        MonitorScripts(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
    }

    /// The scripts that cannot be run (missing, not executable), for validate-all.
    public var unusable: [String] { paths.filter { ExternalCommand.resolve($0) == nil } }

    /// Runs the scripts in order within `timeout`. Returns nil when all succeeded, else why the first one failed.
    public func firstFailure(guest: String, timeout: Duration) async -> String? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        for (i, script) in paths.enumerated() {
            let left = deadline - clock.now
            let share = left / (paths.count - i)
            guard share > .milliseconds(10) else {
                return "no time left in the operation to run monitor command \"\(script)\" for domain \(guest)"
            }
            guard let executable = ExternalCommand.resolve(script) else {
                return "monitor command \"\(script)\" for domain \(guest) is missing or not executable"
            }
            let outcome: ExternalCommand.Outcome
            do { outcome = try await ExternalCommand(executable).run(timeout: share) } catch {
                return "monitor command \"\(script)\" for domain \(guest) could not be started: \(error)"
            }
            let output = Self.oneLine(outcome.output)
            if outcome.timedOut {
                return "Monitor command \"\(script)\" for domain \(guest) did not finish within "
                    + "\(share.formattedSeconds) and was killed" + (output.isEmpty ? "" : "; output: \(output)")
            }
            if !outcome.succeeded {
                let rc = outcome.status.map(String.init) ?? "a signal"
                return "Monitor command \"\(script)\" for domain \(guest) returned \(rc) with output: \(output)"
            }
        }
        return nil
    }

    /// At most 400 characters on one line: an exit reason is one line of the CIB.
    static func oneLine(_ text: String) -> String {
        let trimmed = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map { $0.drop(while: { $0 == " " || $0 == "\t" }) }.filter { !$0.isEmpty }.joined(separator: " | ")
        return trimmed.count > 400 ? String(trimmed.prefix(400)) + "…" : trimmed
    }
}
