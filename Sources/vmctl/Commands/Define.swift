import ArgumentParser
import Foundation
import Libvirt
import VMManager

struct Define: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Define (or redefine) a guest from its domain XML.",
        discussion: """
            Refuses a MAC address already used by another guest on the host, and a guest whose name is already defined \
            with another UUID.

            --pin-identity fills in what the XML leaves out so that every node defines the very same guest: a UUID \
            derived from the name, and a 52:54:00 MAC derived from the UUID for each interface without one. Existing \
            UUIDs and MACs are never changed. --write then stores the pinned XML back into the file, so the file \
            itself carries the identity.

            Examples:
              vmctl define /etc/vmmanager/guests/web1.xml
              vmctl define web1.xml --pin-identity
              vmctl define web1.xml --pin-identity --write
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Path of the domain XML file.") var file: String
    @Flag(help: "Derive a missing UUID and missing MACs deterministically.") var pinIdentity = false
    @Flag(help: "With --pin-identity: write the pinned XML back into the file.") var write = false

    func validate() throws {
        if write && !pinIdentity { throw ValidationError("--write only makes sense with --pin-identity") }
    }

    func run() async throws {
        try await guarded {
            let xml: String
            do { xml = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw VMError(.notInstalled, "cannot read \(file): \(error.localizedDescription)")
            }
            let host = try await connection.connect()
            let outcome = try await host.define(xml: xml, pinIdentity: pinIdentity)
            let d = outcome.domain
            say("\(d.name): \(outcome.redefined ? "redefined" : "defined"), uuid \(d.uuid.lowercasedString)")
            for change in outcome.identityChanges { say("  pinned: \(change)") }
            if !outcome.identityIsPinned {
                let note =
                    "vmctl: note: \(d.name)'s identity is not pinned; libvirt chose a UUID or MAC that another "
                    + "node will not choose. Use --pin-identity.\n"
                FileHandle.standardError.write(Data(note.utf8))
            }
            if write && !outcome.identityChanges.isEmpty {
                try writeAtomically(outcome.definition.xml, to: file)
                say("  wrote the pinned XML back to \(file)")
            }
        }
    }

    /// Replaces the file in one rename, keeping its permissions, so a crash leaves the old or the new file.
    func writeAtomically(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).vmctl-tmp")
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            try Data(text.utf8).write(to: temporary)
            if let mode = attributes[.posixPermissions] {
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: temporary.path)
            }
            _ = try FileManager.default.replaceItemAt(url, withItemAt: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw VMError(
                .failed,
                "the guest is defined, but writing the pinned XML back to \(path) failed: \(error.localizedDescription)"
            )
        }
    }
}
