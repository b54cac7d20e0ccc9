// Fuzz target: the heartbeat v1 face, `vmmanager <guest> [key=value ...] start|stop|status`. HeartbeatMode lives in
// the agent's executable target and cannot be imported, so this repeats its argument handling (the same few lines)
// and feeds the guest and the assignments to `GuestSettings.resolve(parameters:guest:)`, strict and then lenient
// (what stop and status fall back to), and builds the Notifier the agent builds from the result. Built with
// libFuzzer only by `make fuzz`; see docs/reliability-fuzzing.md. Without -D FUZZING it replays FILE|DIR...
//
// Input: the guest argument on the first line, one `key=value` argument per line, then optionally a line `---` and
// the text of a vmmanager.conf, written to a temporary file and passed as conf_file unless an argument names one.
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import FuzzSupport
import VMManager

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size), as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let guest = lines.removeFirst()
    var assignments: [String] = []
    var configText: String?
    if let separator = lines.firstIndex(of: "---") {
        configText = lines[(separator + 1)...].joined(separator: "\n")
        assignments = Array(lines[..<separator])
    } else {
        assignments = lines
    }

    // HeartbeatMode.run: an argument that is not key=value ends the action.
    _ = ConfigError.excerpt(guest)
    var parameters: [String: String] = [:]
    for a in assignments {
        guard let eq = a.firstIndex(of: "="), eq != a.startIndex else {
            _ = ConfigError.excerpt(a)
            return 0
        }
        parameters[String(a[..<eq])] = String(a[a.index(after: eq)...])
    }
    // -1: libFuzzer keeps the input out of the corpus.
    if mayOpenSpecialFile(parameters: parameters, configText: configText, guest: guest) { return -1 }
    if let configText {
        let path = FuzzTemp.directory + "/vmmanager.conf"
        FuzzTemp.write(Array(configText.utf8), to: path)
        if parameters["conf_file"] == nil { parameters["conf_file"] = path }
    }
    let explicitFile = parameters["conf_file"] != nil

    var settings: GuestSettings
    do {
        settings = try GuestSettings.resolve(parameters: parameters, guest: guest)
        precondition(settings.problems.isEmpty, "strict resolution returned problems")
    } catch {
        _ = error.description
        do { settings = try GuestSettings.resolve(parameters: parameters, guest: guest, lenient: true) } catch {
            precondition(explicitFile && (error.kind == .notFound || error.kind == .unreadable),
                         "lenient resolution threw \(error.kind): \(error)")
            return 0
        }
        precondition(!settings.problems.isEmpty, "strict resolution threw but lenient reported no problem")
        for problem in settings.problems { _ = problem.description }
    }
    if settings.configPath == nil && settings.values["domain"] == nil {
        preconditionFailure("the guest argument \(guest.debugDescription) became neither domain nor config")
    }
    _ = "hb-" + guest.map { $0 == "/" ? "_" : $0 }
    _ = (settings.startTimeout, settings.stopTimeout, settings.stopMethods, settings.readiness, settings.lockDirectory)
    let notifier = Notifier(configuration: settings.file)
    _ = notifier.spoolDirectory
    _ = try? notifier.settings(forGuest: settings.domainName).targets
    return 0
}

// MARK: Driver (FuzzSupport)

@main
struct FuzzMain {
    static func main() { exit(FuzzDriver.run(fuzz)) }
}
