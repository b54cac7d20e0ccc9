import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Where a guest's saved state is kept, as configured (`saved_state`, or VirtualDomain's `snapshot`).
public enum SavedStateSetting: Sendable, Hashable, CustomStringConvertible {
    /// Beside the guest's domain XML (`config`): in the thesis's layout the filesystem that moves with the
    /// guest, so the peer that takes the guest over finds its memory there. libvirt's managed save when
    /// no XML is known.
    case auto
    /// libvirt's node-local managed-save image: for a single node.
    case managed
    /// This directory (shared storage, for a takeover to resume the guest).
    case directory(String)

    public static func parse(_ text: String) -> SavedStateSetting? {
        switch text {
        case "", "auto": return .auto
        case "managed": return .managed
        default: return text.hasPrefix("/") ? .directory(text) : nil
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .managed: "managed"
        case .directory(let d): d
        }
    }
}

/// The files of one guest's saved state: its image, the image's ``Provenance``, and the guest's
/// ``GenerationRecord``.
///
/// In a saved-state directory: `<name>.state` (the image, VirtualDomain's name for it), `<name>.state.json`
/// (provenance), `<name>.generation`, and `<name>.state.<node>-<time>` for a conflict copy. With libvirt's
/// managed save the image is libvirt's own; its records are kept in `state_dir/saved/`.
public struct SavedStateStore: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Our own image file in `directory`, saved and restored with virDomainSave/virDomainRestore.
        case directory
        /// libvirt's managed-save image in `managedSaveDirectory`; records in `directory`.
        case managed
    }

    public let guest: String
    public let kind: Kind
    /// The saved-state directory, or (managed) where the records are.
    public let directory: String
    public let managedSaveDirectory: String

    public init(guest: String, kind: Kind, directory: String, managedSaveDirectory: String) {
        self.guest = guest
        self.kind = kind
        self.directory = directory
        self.managedSaveDirectory = managedSaveDirectory
    }

    /// The image that a start restores.
    public var imagePath: String {
        kind == .directory ? "\(directory)/\(guest).state" : "\(managedSaveDirectory)/\(guest).save"
    }

    public var generationPath: String { "\(directory)/\(guest).generation" }

    /// Where the saved state is, in words.
    public var location: String {
        kind == .directory ? directory : "libvirt's managed save (\(managedSaveDirectory), node-local)"
    }

    func provenancePath(of image: String) -> String {
        kind == .directory ? image + ".json" : "\(directory)/\(guest).save.json"
    }

    /// Where the stop chain writes the image before it is committed under its name.
    func temporaryImagePath() -> String {
        "\(directory)/.tmp-\(guest).state-\(UUID().uuidString.lowercased().prefix(8))"
    }

    /// Images a save began and never committed (its node died, or its agent was killed, after libvirt
    /// wrote them): untouched for `idle` — libvirt writes a save in progress continuously. Never restored.
    func abandonedTemporaries(idle: Duration = .seconds(600)) -> [SavedImage] {
        guard kind == .directory else { return [] }
        let prefix = ".tmp-\(guest).state-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let now = Date()
        return names.filter { $0.hasPrefix(prefix) }.compactMap { inspect("\(directory)/\($0)", conflict: true) }
            .filter { now.timeIntervalSince($0.modified) > Double(idle.components.seconds) }
    }

    /// Every image of the guest here: the one in its place first, then conflict copies, oldest first.
    public func images() -> [SavedImage] {
        var found: [SavedImage] = []
        if let image = inspect(imagePath, conflict: false) { found.append(image) }
        guard kind == .directory else { return found }
        let prefix = "\(guest).state."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() where name.hasPrefix(prefix) && !name.hasSuffix(".json") {
            if let image = inspect("\(directory)/\(name)", conflict: true) { found.append(image) }
        }
        return found
    }

    func inspect(_ path: String, conflict: Bool) -> SavedImage? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let provenancePath = provenancePath(of: path)
        let provenance = FileContents.read(provenancePath).flatMap {
            try? Self.decoder.decode(Provenance.self, from: $0)
        }
        return SavedImage(
            path: path, provenancePath: provenancePath, provenance: provenance,
            sizeBytes: UInt64(st.st_size),
            modified: Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9),
            isConflictCopy: conflict, isManagedSave: kind == .managed)
    }

    // MARK: - Generation

    /// The guest's generation record, or nil when it never came up under vmmanager here.
    public func generation() -> GenerationRecord? {
        FileContents.read(generationPath).flatMap { try? Self.decoder.decode(GenerationRecord.self, from: $0) }
    }

    /// Advances the guest's generation: it came up (`how`) on `node`. Durable when it returns.
    @discardableResult
    func advance(uuid: UUID, node: String, how: String) throws(DurableFile.Failure) -> GenerationRecord {
        let next = (generation()?.generation ?? 0) + 1
        let record = GenerationRecord(generation: next, uuid: uuid, node: node, how: how, at: Date())
        try DurableFile.write(Self.encode(record), to: generationPath)
        return record
    }

    /// Sets the generation so that `image` is current again (an admin chose it).
    func adopt(_ provenance: Provenance, node: String) throws(DurableFile.Failure) {
        let record = GenerationRecord(
            generation: provenance.generation, uuid: provenance.uuid, node: node,
            how: "image chosen by an admin", at: Date())
        try DurableFile.write(Self.encode(record), to: generationPath)
    }

    // MARK: - Saving

    /// Puts a freshly saved image (at `temporary`) in the guest's place, with its provenance, durably. When
    /// another image already stands there (two nodes ran the guest), neither is overwritten: the new one is
    /// kept as a conflict copy, and the next start refuses to choose between them.
    /// - Returns: the committed image.
    func commit(temporary: String, provenance: Provenance) throws(DurableFile.Failure) -> SavedImage {
        try DurableFile.sync(temporary)
        let data = Self.encode(provenance)
        // Provenance first: a crash between the two leaves a record without an image (ignored), never an
        // image without its record.
        var target = imagePath
        for attempt in 0..<100 {
            if attempt > 0 || FileManager.default.fileExists(atPath: target) {
                target = conflictPath(node: provenance.node, at: provenance.savedAt, attempt: attempt)
                if FileManager.default.fileExists(atPath: target) { continue }
            }
            try DurableFile.write(data, to: provenancePath(of: target))
            if try DurableFile.moveWithoutReplacing(temporary, to: target) {
                return inspect(target, conflict: target != imagePath)!
            }
            unlink(provenancePath(of: target))
        }
        throw DurableFile.Failure(
            description: "cannot find a free name for the saved image of \(guest) in \(directory)")
    }

    /// Records the provenance of libvirt's managed-save image, just written.
    func recordManagedSave(_ provenance: Provenance) throws(DurableFile.Failure) {
        try DurableFile.write(Self.encode(provenance), to: provenancePath(of: imagePath))
    }

    func conflictPath(node: String, at date: Date, attempt: Int) -> String {
        let stamp = EventText.iso8601(date).filter { $0.isNumber || $0 == "T" || $0 == "Z" }
        let safeNode = node.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }
        return "\(directory)/\(guest).state.\(String(safeNode))-\(stamp)" + (attempt > 1 ? "-\(attempt)" : "")
    }

    // MARK: - After a restore, and quarantine

    /// Removes an image (and its record) that was just restored: restoring it again would roll the guest
    /// back in time.
    func removeRestored(_ image: SavedImage) {
        if !image.isManagedSave { unlink(image.path) }  // libvirt removes its own after a restore
        unlink(image.provenancePath)
        try? DurableFile.syncDirectory(of: image.path)
    }

    /// Moves an image and its record into `quarantine` (never deletes them), stamped with the time.
    /// libvirt's managed-save image is hard-linked instead (libvirt removes its own when told to boot
    /// past it).
    /// - Returns: where the image is now.
    static func quarantine(_ image: SavedImage, into quarantine: String) throws(DurableFile.Failure) -> String {
        try DurableFile.createDirectory(quarantine)
        let base = image.path.split(separator: "/").last.map(String.init) ?? "saved.state"
        var target = "\(quarantine)/\(base).\(Int(Date().timeIntervalSince1970))"
        var n = 1
        while FileManager.default.fileExists(atPath: target) {
            n += 1
            target = "\(quarantine)/\(base).\(Int(Date().timeIntervalSince1970))-\(n)"
        }
        if image.isManagedSave {
            guard link(image.path, target) == 0 else {
                throw DurableFile.Failure(
                    description: "cannot keep \(image.path) as \(target): "
                        + String(cString: strerror(errno)))
            }
        } else if rename(image.path, target) != 0 {
            // Another filesystem: a hard link would fail too; copy, sync, then remove.
            do {
                try FileManager.default.copyItem(atPath: image.path, toPath: target)
                try DurableFile.sync(target)
                unlink(image.path)
            } catch {
                throw DurableFile.Failure(description: "cannot move \(image.path) to \(target): \(error)")
            }
        }
        if FileManager.default.fileExists(atPath: image.provenancePath) {
            if rename(image.provenancePath, target + ".json") != 0 {
                try? FileManager.default.copyItem(atPath: image.provenancePath, toPath: target + ".json")
                unlink(image.provenancePath)
            }
        }
        try? DurableFile.syncDirectory(quarantine)
        try? DurableFile.syncDirectory(of: image.path)
        return target
    }

    // MARK: - Encoding

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        return d
    }()

    static func encode<T: Encodable>(_ value: T) -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.dateEncodingStrategy = .secondsSince1970
        return (try? e.encode(value)) ?? Data()
    }
}
