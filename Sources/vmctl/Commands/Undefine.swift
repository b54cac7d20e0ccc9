import ArgumentParser
import Foundation
import Libvirt
import VMManager

struct Undefine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a stopped guest's libvirt definition (never its XML file).",
        discussion: """
            The only command that undefines a guest; nothing in vmmanager does it implicitly.

            Refuses (exit 5) a guest that is running (or paused, or in shutdown): stop it first. Refuses (exit 5) a \
            guest that has a managed-save image, because the image holds the guest's memory, its users' sessions; \
            --force removes the image together with the definition. The domain XML file is never touched, so the \
            cluster (or `vmctl define`) can define the guest again from it. A save file kept under the snapshot \
            setting and the guest's disks are not touched either.

            Holds the guest's lock (lock_dir/NAME.lock, as the resource agent does) while it checks and undefines, so \
            it cannot interleave with a cluster start; exits 4 when the lock stays busy for --timeout seconds.

            Examples:
              vmctl undefine web1
              vmctl undefine web1 --force        # also delete its managed-save image
              vmctl undefine web1 --config /etc/vmmanager/vmmanager.conf --timeout 30
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Argument(help: "Guest name or UUID.", completion: guestNameCompletion) var guest: String
    @Flag(help: "Also remove the guest's managed-save image (its saved memory is lost).") var force = false
    @Option(help: ArgumentHelp("Seconds to wait for the guest's lock.", valueName: "seconds")) var timeout: Double = 10

    func validate() throws {
        guard timeout >= 0 else { throw ValidationError("--timeout must not be negative") }
    }

    func run() async throws {
        try await guarded {
            let host = try await connection.connect()
            let d = try await host.guest(guest)
            let settings = try agent.controller(for: d.name, connection: connection).settings
            let lock = try await FileLock.acquire(
                guest: d.name, directory: settings.lockDirectory,
                timeout: seconds(timeout), purpose: "vmctl undefine")
            defer { lock.release() }
            let state = try await d.state()
            if state.isActive {
                throw VMError(
                    .refused,
                    "guest \(d.name) is \(state); refusing to undefine a running guest. "
                        + "Stop it first (`vmctl stop \(d.name)`)")
            }
            guard try await d.isPersistent() else {
                throw VMError(.refused, "guest \(d.name) is transient: it has no definition to remove")
            }
            let image = try await d.hasManagedSaveImage()
            if image && !force {
                throw VMError(
                    .refused,
                    "guest \(d.name) has a managed-save image (its saved memory); refusing to "
                        + "undefine it. `vmctl start \(d.name)` resumes it; --force deletes the image with the "
                        + "definition")
            }
            try await d.undefine(flags: image ? .managedSave : [])
            var line = "\(d.name): undefined"
            if image { line += ", managed-save image removed" }
            if let xml = settings.configPath { line += "; its XML \(xml) is kept" }
            say(line)
        }
    }
}
