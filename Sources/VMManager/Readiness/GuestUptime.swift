import Libvirt

/// The guest's own uptime, read from `/proc/uptime` through the guest agent.
///
/// This is how vmmanager (and its tests) tell a resumed guest from a rebooted one: after a managed
/// save and restore, or a live migration, the uptime continues instead of starting again from zero.
/// The old vmmanager script asked VMware for the same figure (`getuptime`).
public enum GuestUptime {
    /// - Throws: ``VMError`` when the agent does not answer or the guest has no `cat`.
    public static func read(_ domain: Domain, timeout: Duration = .seconds(10)) async throws -> Duration {
        var lastError: LibvirtError?
        for cat in ["/bin/cat", "/usr/bin/cat"] {
            do {
                let result = try await domain.agentExec(path: cat, arguments: ["/proc/uptime"], timeout: timeout)
                guard result.exitCode == 0, let first = result.standardOutput.split(separator: " ").first,
                    let seconds = Double(first)
                else { continue }
                return .milliseconds(Int64(seconds * 1000))
            } catch {
                lastError = error
            }
        }
        throw VMError(
            .failed,
            "cannot read the uptime of guest \(domain.name) through its guest agent"
                + (lastError.map { ": \($0.message)" } ?? ""), underlying: lastError)
    }
}
