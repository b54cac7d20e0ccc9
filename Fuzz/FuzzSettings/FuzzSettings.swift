// Fuzz target: settings resolution, `GuestSettings.resolve(parameters:parameterPrefix:guest:lenient:)`, the way the
// OCF face calls it (parameters already stripped of OCF_RESKEY_). Built with libFuzzer only by `make fuzz`; see
// docs/reliability-fuzzing.md. Without -D FUZZING it is a replayer: `FuzzSettings FILE|DIR...`.
//
// Input: `key=value` lines (the parameters; the first '=' splits, a line without one is skipped), then optionally a
// line `---` and the text of a vmmanager.conf, which is written to a temporary file and passed as conf_file unless
// the parameters name one. Without `---` the default conf_file applies (/etc/vmmanager/vmmanager.conf).
//
// Checked besides "does not crash": strict resolution returns or throws a ConfigError (the type system makes it
// one); lenient resolution never throws except .notFound/.unreadable of an explicit conf_file; strict succeeds
// exactly when lenient reports no problem.
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import FuzzSupport
import VMManager

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size), as: UTF8.self)
    var parameters: [String: String] = [:]
    var configText: String?
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    for (index, line) in lines.enumerated() {
        if line == "---" {
            configText = lines[(index + 1)...].joined(separator: "\n")
            break
        }
        guard let eq = line.firstIndex(of: "=") else { continue }
        parameters[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    // -1: libFuzzer keeps the input out of the corpus.
    if mayOpenSpecialFile(parameters: parameters, configText: configText, guest: nil) { return -1 }
    if let configText {
        let path = FuzzTemp.directory + "/vmmanager.conf"
        FuzzTemp.write(Array(configText.utf8), to: path)
        if parameters["conf_file"] == nil { parameters["conf_file"] = path }
    }
    let explicitFile = parameters["conf_file"] != nil

    var strictError: ConfigError?
    do {
        let s = try GuestSettings.resolve(parameters: parameters, parameterPrefix: "OCF_RESKEY_")
        precondition(s.problems.isEmpty, "strict resolution returned problems: \(s.problems)")
        touch(s)
    } catch {
        strictError = error
        _ = error.description
    }

    let lenient: GuestSettings
    do { lenient = try GuestSettings.resolve(parameters: parameters, parameterPrefix: "OCF_RESKEY_", lenient: true) } catch {
        precondition(explicitFile && (error.kind == .notFound || error.kind == .unreadable),
                     "lenient resolution threw \(error.kind): \(error)")
        return 0
    }
    touch(lenient)
    precondition((strictError == nil) == lenient.problems.isEmpty,
                 "strict resolution \(strictError.map { "threw \($0)" } ?? "passed") but lenient reported "
                 + "\(lenient.problems.count) problem(s): \(lenient.problems)")
    return 0
}

/// Reads every derived value, as the agent would.
func touch(_ s: GuestSettings) {
    _ = s.stopMethods.count + s.peers.count
    _ = (s.domainName, s.configPath, s.hypervisor, s.savedState.description, s.readiness, s.startTimeout, s.stopTimeout)
    _ = (s.managedSaveDirectory, s.quarantineDirectory, s.stateDirectory, s.lockDirectory)
    for peer in s.peers {
        _ = s.migration.remoteURI(for: peer, hypervisor: s.hypervisor)
        _ = s.migration.dataURI(for: peer)
    }
    for p in s.problems { _ = p.description }
}

// MARK: Driver (FuzzSupport)

@main
struct FuzzMain {
    static func main() { exit(FuzzDriver.run(fuzz)) }
}
