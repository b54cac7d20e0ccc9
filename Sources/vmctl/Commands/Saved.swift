import ArgumentParser
import Foundation
import Libvirt
import VMManager

struct Saved: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a guest's saved images, and choose between them after a split brain.",
        discussion: """
            Lists every saved image of the guest that this node can see — in its saved-state directory (by default \
            beside its domain XML), conflict copies, and libvirt's node-local managed-save image — with where it was \
            saved, by which node, when, its size, and whether the next start would restore it (current) or put it in \
            quarantine (stale, with why).

            When two nodes both ran the guest and both saved it, both images are kept and start refuses to choose. \
            --keep PATH makes that image the guest's current state (the next start restores it) and moves every other \
            image to the quarantine directory; --discard moves them all there (the next start cold-boots). Images in \
            quarantine are never deleted by vmmanager.

            Examples:
              vmctl saved web1
              vmctl saved web1 --json
              vmctl saved web1 --keep /srv/vm/web1/web1.state.nodeB-20261201T221503Z
              vmctl saved web1 --discard
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var agent: AgentSettingsOptions
    @Argument(help: "Guest name or UUID.") var guest: String
    @Option(
        help: ArgumentHelp(
            "Keep this image as the guest's current state; the others go to quarantine.",
            valueName: "path"))
    var keep: String?
    @Flag(help: "Move every saved image to quarantine: the next start cold-boots the guest.") var discard = false
    @Flag(help: "Print JSON (see docs/vmctl.md).") var json = false
    @Option(help: "Seconds to wait for the guest's lock.") var timeout: Double = 30

    func validate() throws {
        if keep != nil && discard { throw ValidationError("--keep and --discard exclude each other") }
    }

    func run() async throws {
        try await guarded {
            let name = try await resolveName(guest, connection)
            let controller = try agent.controller(for: name, connection: connection)
            if let keep {
                let kept = try await controller.keepSavedImage(keep, budget: seconds(timeout))
                say("\(name): \(keep) is the guest's saved state; the next start restores it")
                for k in kept { note("kept aside as \(k)") }
                return
            }
            if discard {
                let kept = try await controller.discardSavedImages(budget: seconds(timeout))
                say("\(name): \(kept.count) saved image(s) put in quarantine; the next start boots the guest")
                for k in kept { note("kept aside as \(k)") }
                return
            }
            let host = try await connection.connect(readOnly: true)
            let images = try await controller.savedImages(of: try await host.guest(name)).map(SavedImageReport.init)
            if json { return try Output.json(images) }
            say("\(name): saved state in \(controller.savedStateStore(for: name).location)")
            if images.isEmpty { say("  no saved image: the next start boots the guest") }
            for image in images { say("  " + image.text) }
        }
    }
}

/// One saved image as `vmctl status` and `vmctl saved` show it; the JSON keys are in docs/vmctl.md.
struct SavedImageReport: Encodable {
    let path: String?
    let kind: String
    let sizeBytes: UInt64?
    let savedAt: Date?
    let ageSeconds: Double?
    let savedOn: String?
    let generation: UInt64?
    let verdict: String
    let why: String?

    init(_ entry: (image: SavedImage, verdict: SavedImageVerdict)) {
        let image = entry.image
        path = image.path
        kind = image.isManagedSave ? "managed-save" : image.isConflictCopy ? "conflict-copy" : "saved-state"
        sizeBytes = image.sizeBytes
        savedAt = image.provenance?.savedAt ?? image.modified
        ageSeconds = (image.age() * 10).rounded() / 10
        savedOn = image.provenance?.node
        generation = image.provenance?.generation
        switch entry.verdict {
        case .current: (verdict, why) = ("current", nil)
        case .stale(let reason): (verdict, why) = ("stale", reason)
        }
    }

    init(error: String) {
        (path, kind, sizeBytes, savedAt, ageSeconds, savedOn, generation) = (nil, "unknown", nil, nil, nil, nil, nil)
        (verdict, why) = ("unknown", error)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(path, forKey: "path")
        try c.encode(kind, forKey: "kind")
        try c.encode(sizeBytes, forKey: "sizeBytes")
        try c.encode(savedAt, forKey: "savedAt")
        try c.encode(ageSeconds, forKey: "ageSeconds")
        try c.encode(savedOn, forKey: "savedOn")
        try c.encode(generation, forKey: "generation")
        try c.encode(verdict, forKey: "verdict")
        try c.encode(why, forKey: "why")
    }

    var text: String {
        guard let path else { return "cannot be listed: \(why ?? "")" }
        var s = path
        var facts: [String] = [kind]
        if let savedOn { facts.append("saved on \(savedOn)") }
        if let ageSeconds { facts.append("\(formatAge(ageSeconds)) ago") }
        if let sizeBytes { facts.append(formatBytes(sizeBytes)) }
        if let generation { facts.append("generation \(generation)") }
        s += " (" + facts.joined(separator: ", ") + "): "
        s +=
            verdict == "current"
            ? Paint.green.apply("current, the next start restores it")
            : Paint.yellow.apply(verdict) + (why.map { ": \($0)" } ?? "")
        return s
    }
}
