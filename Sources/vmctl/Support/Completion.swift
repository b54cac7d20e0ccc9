import ArgumentParser
import Foundation
import Libvirt

/// Shell completion of guest names: the shell runs `vmctl` to ask, vmctl asks libvirt (read-only, 2 s).
/// Honours a `--connect`/`-c` already typed on the command line, else `$VMCTL_CONNECT`, else qemu:///system.
let guestNameCompletion = CompletionKind.custom { (words: [String], _: Int, prefix: String) async -> [String] in
    var uri = ProcessInfo.processInfo.environment["VMCTL_CONNECT"] ?? "qemu:///system"
    for (i, w) in words.enumerated() {
        if w == "--connect" || w == "-c", i + 1 < words.count { uri = words[i + 1] }
        if w.hasPrefix("--connect=") { uri = String(w.dropFirst("--connect=".count)) }
    }
    let options = Connection.Options(readOnly: true, timeout: .seconds(2), keepAlive: nil)
    guard let connection = try? await Connection.open(uri, options: options),
        let domains = try? await connection.domains()
    else { return [] }
    return domains.map(\.name).filter { $0.hasPrefix(prefix) }.sorted()
}
