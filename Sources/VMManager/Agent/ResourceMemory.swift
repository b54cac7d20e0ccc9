import FoundationEssentials
import Libvirt
#if canImport(Glibc)
import Glibc
#endif

/// What the agent remembers between invocations, under `state_dir`.
struct ResourceMemory {
    let directory: String
    let instance: String?

    var rememberedName: String? {
        guard let instance else { return nil }
        return readFile("\(directory)/resources/\(instance)")?.trimmed.nilIfEmpty
    }

    func remember(_ name: String) {
        guard let instance, rememberedName != name else { return }
        write("\(directory)/resources", instance, name)
    }

    func definitionDigest(_ name: String) -> String? {
        readFile("\(directory)/definitions/\(name).sha1")?.trimmed
    }

    func rememberDefinition(_ name: String, digest: String) {
        write("\(directory)/definitions", "\(name).sha1", digest)
    }

    /// The domain XML the agent last started the guest from (so `vmctl`, given only a name, finds the
    /// guest's saved state where the agent keeps it).
    func rememberedConfig(_ name: String) -> String? {
        readFile("\(directory)/configs/\(name)")?.trimmed.nilIfEmpty
    }

    func rememberConfig(_ name: String, _ path: String) {
        if rememberedConfig(name) != path { write("\(directory)/configs", name, path) }
    }

    /// The generation the guest came up with on this node: what its image carries when this node saves it.
    func rememberedGeneration(_ name: String) -> UInt64? {
        readFile("\(directory)/generations/\(name)").flatMap { UInt64($0.trimmed) }
    }

    func rememberGeneration(_ name: String, _ generation: UInt64) {
        write("\(directory)/generations", name, "\(generation)")
    }

    /// A stop that began (the guest's state then) and has not reported its end.
    func stopIntent(_ name: String) -> String? {
        readFile("\(directory)/stopping/\(name)")?.trimmed.nilIfEmpty
    }

    func recordStopIntent(_ name: String, previousState: String) {
        write("\(directory)/stopping", name, previousState)
    }

    func clearStopIntent(_ name: String) {
        unlink("\(directory)/stopping/\(name)")
    }

    /// The UUID the guest had when this node last started it: what its QEMU's `-uuid` says.
    func rememberedUUID(_ name: String) -> UUID? {
        readFile("\(directory)/uuids/\(name)").flatMap { UUID(uuidString: $0.trimmed) }
    }

    func rememberUUID(_ name: String, _ uuid: UUID) {
        if rememberedUUID(name) != uuid { write("\(directory)/uuids", name, uuid.uuidString.lowercased()) }
    }

    func forgetGeneration(_ name: String) {
        unlink("\(directory)/generations/\(name)")
    }

    /// What the last monitor found wrong inside the running guest (nil: healthy, or never judged). A stop
    /// does not save a guest known to be failed: saving would preserve the fault.
    func failure(_ name: String) -> String? {
        readFile("\(directory)/health/\(name)")?.trimmed.nilIfEmpty
    }

    func rememberFailure(_ name: String, _ why: String?) {
        guard failure(name) != why else { return }
        if let why { write("\(directory)/health", name, why) } else { unlink("\(directory)/health/\(name)") }
    }

    /// Where this node last saved the guest, to find an image an earlier configuration left behind.
    func savedStateDirectory(_ name: String) -> String? {
        readFile("\(directory)/saved-state/\(name)")?.trimmed.nilIfEmpty
    }

    func rememberSavedStateDirectory(_ name: String, _ path: String) {
        if savedStateDirectory(name) != path { write("\(directory)/saved-state", name, path) }
    }

    func write(_ dir: String, _ file: String, _ text: String) {
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? Data((text + "\n").utf8).write(to: URL(fileURLWithPath: "\(dir)/\(file)"), options: .atomic)
    }

    static func digest(_ text: String) -> String {
        SHA1.hash(Array(text.utf8)).map { b in
            let h = String(b, radix: 16)
            return h.count == 1 ? "0" + h : h
        }.joined()
    }
}
