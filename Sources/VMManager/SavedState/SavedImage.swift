import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Where a saved image came from, written next to it when the stop chain saved the guest. Without it
/// an image is of unknown age and origin, and is never restored.
public struct Provenance: Codable, Sendable, Hashable {
    /// The format of this record, for readers of later versions.
    public var format: Int = 1
    public var guest: String
    public var uuid: UUID
    /// The node (libvirt's host name) whose libvirtd wrote the image.
    public var node: String
    public var savedAt: Date
    /// The guest's generation while it ran there: the image is its latest state only while the guest's
    /// generation has not moved on (see ``GenerationRecord``).
    public var generation: UInt64
    /// The guest's writable file-backed disks as they were right after the save. A disk that changed
    /// since has moved on without this memory: restoring would corrupt its filesystem.
    public var disks: [DiskStamp]

    public init(guest: String, uuid: UUID, node: String, savedAt: Date, generation: UInt64, disks: [DiskStamp]) {
        self.guest = guest
        self.uuid = uuid
        self.node = node
        self.savedAt = savedAt
        self.generation = generation
        self.disks = disks
    }
}

/// Size and modification time of one disk file, to the nanosecond.
public struct DiskStamp: Codable, Sendable, Hashable {
    public var path: String
    public var sizeBytes: UInt64
    public var modifiedNanoseconds: Int64

    /// The stamp of the file at `path` now, or nil when it is not a regular file (a block device such
    /// as DRBD has no meaningful modification time; the generation rule still covers it).
    public static func of(_ path: String) -> DiskStamp? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return DiskStamp(
            path: path, sizeBytes: UInt64(st.st_size),
            modifiedNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    public var modified: Date { Date(timeIntervalSince1970: Double(modifiedNanoseconds) / 1e9) }
}

/// The guest's generation: a counter on the guest's own storage that every coming-up advances (boot,
/// restore, resume, arrival by migration), on whichever node it happens.
public struct GenerationRecord: Codable, Sendable, Hashable {
    public var generation: UInt64
    public var uuid: UUID
    /// The node it came up on, and how.
    public var node: String
    public var how: String
    public var at: Date

    public init(generation: UInt64, uuid: UUID, node: String, how: String, at: Date) {
        self.generation = generation
        self.uuid = uuid
        self.node = node
        self.how = how
        self.at = at
    }
}

/// One saved image of a guest on disk, with what is known about it.
public struct SavedImage: Sendable, Hashable {
    public let path: String
    /// Where its ``Provenance`` is (or would be) kept.
    public let provenancePath: String
    /// nil when the record is missing or unreadable.
    public let provenance: Provenance?
    public let sizeBytes: UInt64
    /// When the file was last written.
    public let modified: Date
    /// An image kept under a second name because another one already stood in the guest's place (two
    /// nodes saved the guest: split brain). Never restored without an admin's choice.
    public let isConflictCopy: Bool
    /// libvirt's node-local managed-save image rather than a file of the saved-state directory.
    public let isManagedSave: Bool

    /// Seconds since the image was saved.
    public func age(now: Date = Date()) -> Double { max(0, now.timeIntervalSince(provenance?.savedAt ?? modified)) }

    /// One line an admin can act on: where, from which node, how old, how big.
    public var summary: String {
        var s = path
        if let p = provenance {
            s += " (saved on \(p.node), generation \(p.generation)"
        } else {
            s += " (no provenance"
        }
        s += ", \(Int(age().rounded())) s ago, \(sizeBytes / 1_048_576) MiB)"
        return s
    }
}

/// Whether an image may be restored.
public enum SavedImageVerdict: Sendable, Hashable {
    /// It is the guest's latest state.
    case current
    /// Restoring it would roll the guest back in time; the reason says why.
    case stale(String)

    public var isCurrent: Bool { self == .current }
}

extension SavedImage {
    /// The generation rule: an image is current when it is of this guest, the guest has not come up
    /// anywhere since it was saved, and none of its disks has changed since.
    public func verdict(uuid: UUID, generation: GenerationRecord?) -> SavedImageVerdict {
        guard let p = provenance else {
            return .stale(
                "it has no provenance record (\(provenancePath)): it was not written by vmmanager's stop "
                    + "chain, or its record was lost, so its age and origin are unknown")
        }
        if p.uuid != uuid {
            return .stale(
                "it is an image of another guest (UUID \(p.uuid.uuidString.lowercased()), not "
                    + "\(uuid.uuidString.lowercased()))")
        }
        let current = generation?.generation ?? 0
        if p.generation != current {
            let since = generation.map { " (\($0.how) on \($0.node) at \(EventText.iso8601($0.at)))" } ?? ""
            return .stale(
                "the guest came up again after this image was saved: it is of generation \(p.generation), "
                    + "the guest is at generation \(current)\(since)")
        }
        for disk in p.disks {
            guard let now = DiskStamp.of(disk.path) else {
                return .stale("its disk \(disk.path) is gone")
            }
            if now != disk {
                return .stale(
                    "its disk \(disk.path) was written after the image was saved (disk modified "
                        + "\(EventText.iso8601(now.modified)), image saved \(EventText.iso8601(p.savedAt)))")
            }
        }
        return .current
    }
}
