// What every fuzz target shares: libFuzzer's driver (or, in a plain build, a replayer of input files), a
// temporary directory, and the filter that keeps inputs from opening this machine's special files.
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Whether the input could make the settings open a device, a FIFO or a pseudo-file that never ends (a `config`,
/// `vm_dir` or `conf_file` of /dev/zero, /dev/stdin, /proc/kmsg, a trace_pipe, a FIFO under /run): such an input
/// blocks or eats memory because of what this machine has, not because of a bug, so it is skipped. It looks at the
/// values that become paths (a path is one of them, or `vm_dir` + "/" + `config`, so a dangerous component lies
/// whole inside one) and is conservative: "sys" is allowed only as "system".
public func mayOpenSpecialFile(parameters: [String: String], configText: String?, guest: String?) -> Bool {
    var candidates = ["config", "vm_dir", "conf_file"].compactMap { parameters[$0] }
    if let guest { candidates.append(guest) }
    for line in (configText ?? "").split(separator: "\n") where ["config", "vm_dir", "conf_file"].contains(where: { line.contains($0) }) {
        candidates.append(String(line))
    }
    for candidate in candidates {
        let bytes = Array(candidate.utf8)
        for word in ["dev", "proc", "run", "pipe", "fifo", "libvirt"] where contains(bytes, Array(word.utf8)) { return true }
        let sys = Array("sys".utf8), system = Array("system".utf8)
        var i = 0
        while i + sys.count <= bytes.count {
            if Array(bytes[i..<i + sys.count]) == sys,
               !(i + system.count <= bytes.count && Array(bytes[i..<i + system.count]) == system) { return true }
            i += 1
        }
    }
    return false
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if Array(haystack[start..<start + needle.count]) == needle { return true }
    }
    return false
}

/// A temporary directory of this process, under $TMPDIR (scripts/fuzz.sh points it at a directory it removes).
public enum FuzzTemp {
    public static let directory: String = {
        var template = Array("\(getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")/vmmanager-fuzz-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { preconditionFailure("mkdtemp failed: \(errno)") }
        return String(cString: made)
    }()

    public static func write(_ bytes: [UInt8], to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            precondition(n > 0, "cannot write \(path)")
            offset += n
        }
    }
}

/// With -D FUZZING (and -sanitize=fuzzer): libFuzzer's driver, looked up at run time because SwiftPM gives every
/// executable a `main` of its own. Without: runs each FILE (or each file of a DIR) given as an argument once.
public enum FuzzDriver {
    public typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

    public static func run(_ test: TestOneInput) -> Int32 {
        #if FUZZING
        typealias RunDriver = @convention(c) (
            UnsafeMutablePointer<Int32>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
            TestOneInput
        ) -> Int32
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "LLVMFuzzerRunDriver") else {
            printError("LLVMFuzzerRunDriver not found: build with -sanitize=fuzzer and "
                       + "-Xlinker --export-dynamic-symbol=LLVMFuzzerRunDriver (make fuzz does)\n")
            return 2
        }
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        return unsafeBitCast(symbol, to: RunDriver.self)(&argc, &argv, test)
        #else
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.isEmpty {
            printError("usage: \(CommandLine.arguments[0]) FILE|DIR...  (runs each input once; make fuzz builds the fuzzer)\n")
            return 2
        }
        var count = 0
        for argument in arguments {
            var isDirectory = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                printError("\(argument): no such file\n")
                return 2
            }
            let files = isDirectory
                ? ((try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []).sorted().map { "\(argument)/\($0)" }
                : [argument]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                let bytes = [UInt8](data)
                _ = bytes.withUnsafeBufferPointer { test($0.baseAddress, $0.count) }
                count += 1
            }
        }
        print("ran \(count) input(s) without a crash")
        return 0
        #endif
    }

    public static func printError(_ message: String) {
        var message = message
        message.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
