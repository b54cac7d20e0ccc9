import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// libvirt's managed-save image of a guest as a file: `<managed_save_dir>/<name>.save`.
///
/// libvirt says whether an image exists (`virDomainHasManagedSaveImage`) but not how big or how old it is;
/// an admin deciding between "restore it" and "boot fresh" during an incident wants both.
public struct ManagedSaveImageFile: Sendable, Hashable {
    public let path: String
    public let sizeBytes: UInt64
    /// When the image was last written (the moment the guest was saved).
    public let modified: Date

    /// The image of `guest` in `directory`, or nil when there is no such file (or it cannot be read).
    public static func inspect(guest: String, directory: String) -> ManagedSaveImageFile? {
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + guest + ".save"
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let modified = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        return ManagedSaveImageFile(path: path, sizeBytes: UInt64(st.st_size), modified: modified)
    }

    /// Seconds since the image was written.
    public func age(now: Date = Date()) -> Double { max(0, now.timeIntervalSince(modified)) }
}
