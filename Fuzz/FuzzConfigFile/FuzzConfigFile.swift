// Fuzz target: the vmmanager.conf parser, `ConfigFile.parse(_:path:)` (strict) and `ConfigFile.loadLenient(_:)`
// (the same bytes read back from a temporary file). Built with libFuzzer only by `make fuzz`; see
// docs/reliability-fuzzing.md. Without -D FUZZING it is a replayer: `FuzzConfigFile FILE|DIR...`.
//
// Checked besides "does not crash": strict parsing throws exactly when the lenient reading reports a problem,
// and every entry that comes out has a valid key, a trimmed value that stays on its line ("values run to the end
// of the line"), no key twice in a section, no guest twice. (The line check found that CRLF files were read as
// one line; see docs/reliability-fuzzing.md.)
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import FuzzSupport
import VMManager

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
    let text = String(decoding: bytes, as: UTF8.self)

    var strict: ConfigFile?
    do { strict = try ConfigFile.parse(text, path: "fuzz.conf") } catch {
        precondition(error.file == "fuzz.conf", "a parse error names another file: \(error)")
        precondition(error.line != nil, "a parse error names no line: \(error)")
        _ = error.description
    }

    let path = FuzzTemp.directory + "/vmmanager.conf"
    FuzzTemp.write(bytes, to: path)
    guard let lenient = ConfigFile.loadLenient(path) else { preconditionFailure("loadLenient could not read \(path)") }
    precondition((strict == nil) == !lenient.problems.isEmpty,
                 "strict parse \(strict == nil ? "threw" : "passed") but lenient reported \(lenient.problems.count) problems")
    if let strict {
        precondition(strict.sections.map(\.entries) == lenient.file.sections.map(\.entries),
                     "strict and lenient readings of a valid file differ")
    }

    var guests = Set<String>()
    for section in lenient.file.sections {
        if let guest = section.guest { precondition(guests.insert(guest).inserted, "guest \(guest) twice") }
        var keys = Set<String>()
        for entry in section.entries {
            precondition(!entry.key.isEmpty && entry.key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") },
                         "invalid key \(entry.key.debugDescription) accepted")
            precondition(keys.insert(entry.key).inserted, "key \(entry.key) twice in one section")
            precondition(entry.value.first.map { $0 != " " && $0 != "\t" } ?? true, "value not trimmed")
            precondition(!entry.value.unicodeScalars.contains("\n") && !entry.value.unicodeScalars.contains("\r"),
                         "line \(entry.line): the value of \(entry.key) runs over a line break: \(entry.value.debugDescription)")
            precondition(entry.line >= 1, "entry on line \(entry.line)")
        }
    }
    for guest in lenient.file.guests { _ = lenient.file.entries(ofGuest: guest) }
    _ = lenient.file.entries(of: "global")
    _ = lenient.file.entries(of: "notify")
    return 0
}

// MARK: Driver (FuzzSupport)

@main
struct FuzzMain {
    static func main() { exit(FuzzDriver.run(fuzz)) }
}
