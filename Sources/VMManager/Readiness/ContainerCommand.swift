import FoundationEssentials
import Libvirt

/// `readiness=exec:COMMAND` for a container (libvirt LXC): the command, run by `/bin/sh -c` inside the
/// container, succeeds. It enters the namespaces the container's own libvirtd opens for us
/// (``Domain/openNamespaces(timeout:)``), through util-linux's `nsenter` handed their descriptors, the way
/// `virsh lxc-enter-namespace` does it — so it sees the container's processes, files and network, not the
/// host's, and cannot reach another container whose init happens to have a reused PID.
public enum ContainerCommand {
    /// nsenter's option for each kind of namespace the kernel names in /proc/PID/ns.
    static let nsenterOptions = [
        "mnt": "--mount", "uts": "--uts", "ipc": "--ipc", "net": "--net", "pid": "--pid", "user": "--user",
        "cgroup": "--cgroup",
    ]

    /// Runs `command` inside the container once; nil when it exited 0, else why not (for the start's reason).
    /// The command gets a plain PATH and nothing of the agent's environment (which holds the cluster's
    /// parameters).
    /// - Throws: ``VMError`` `.invalidInput` when the guest is no container or the connection is remote: no
    ///   later try can succeed, so a wait should end at once rather than at its deadline.
    public static func firstFailure(
        _ command: String, in domain: Domain, timeout: Duration
    ) async throws(VMError) -> String? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        guard let nsenter = ExternalCommand.resolve("/usr/bin/nsenter") ?? ExternalCommand.resolve("nsenter") else {
            return "nsenter (util-linux) is not installed; exec: readiness needs it"
        }
        let namespaces: ContainerNamespaces
        do {
            namespaces = try await domain.openNamespaces(timeout: timeout)
        } catch  where error.code == .noSupport || error.code == .operationUnsupported {
            throw VMError(
                .invalidInput,
                "readiness exec:\(command) runs inside a container (libvirt LXC) over a local lxc:/// connection; "
                    + "libvirt cannot open \(domain.name)'s namespaces: \(error.message)")
        } catch {
            return "cannot enter the container's namespaces: \(error.message)"
        }
        let entered = namespaces.namespaces.filter { $0.canBeEntered && nsenterOptions[$0.kind] != nil }
        var arguments = entered.enumerated().map { index, namespace in
            "\(nsenterOptions[namespace.kind]!)=/proc/self/fd/\(3 + index)"
        }
        arguments += ["--", "/bin/sh", "-c", command]
        var run = ExternalCommand(nsenter, arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        run.inheritedDescriptors = entered.map(\.descriptor)
        run.outputLimit = 512
        let outcome: ExternalCommand.Outcome
        do { outcome = try await run.run(timeout: max(.milliseconds(100), deadline - clock.now)) } catch {
            return "\(error)"
        }
        if outcome.succeeded { return nil }
        if outcome.timedOut { return "exec:\(command) did not end within \(timeout.formattedSeconds)" }
        let said = outcome.output.split(separator: "\n").last.map { ": \(ConfigError.excerpt(String($0)))" } ?? ""
        return "exec:\(command) \(outcome.status.map { "exited \($0)" } ?? "was killed by a signal")\(said)"
    }
}
