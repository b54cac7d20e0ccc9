import Foundation

/// What a program that ran to its end left: its exit status and its output.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// A program a test wants to run is not there.
public struct MissingExecutable: Error, CustomStringConvertible {
    public let description: String
}

/// Runs a program to its end; output is captured through files, so a large output cannot block it.
/// - Parameter stdin: written to the program's standard input, which is then closed; nil for /dev/null.
@discardableResult
public func run(
    _ path: String, _ arguments: [String], environment: [String: String]? = nil, stdin: Data? = nil
) throws
    -> CommandResult
{
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw MissingExecutable(description: "no executable at \(path)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let dir = FileManager.default.temporaryDirectory
    let out = dir.appendingPathComponent("out-\(UUID().uuidString)")
    let err = dir.appendingPathComponent("err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: out)
        try? FileManager.default.removeItem(at: err)
    }
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    let pipe = Pipe()
    process.standardInput = stdin == nil ? FileHandle.nullDevice : pipe
    try process.run()
    if let stdin {
        pipe.fileHandleForWriting.write(stdin)
        try pipe.fileHandleForWriting.close()
    }
    while process.isRunning { Thread.sleep(forTimeInterval: 0.005) }  // waitUntilExit() spins a core on Linux
    return CommandResult(
        status: process.terminationStatus,
        stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
}

/// The repository's root directory.
public let packageRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The directory of the running test executable: `swift build` puts it, and the package's products, in
/// `<scratch>/<triple>/<configuration>/` (which `<scratch>/<configuration>` links to), whatever the scratch
/// path and the configuration (`swift test -c release`).
let testBinaryDirectory: URL = {
    // Linux: <bin>/vmmanagerPackageTests.xctest is the executable; macOS: xctest loads the bundle
    // <bin>/vmmanagerPackageTests.xctest/Contents/MacOS/vmmanagerPackageTests.
    if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") && $0 != Bundle.main }) {
        return URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent()
    }
    return URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent()
}()

/// The path of one of the package's executable products built for the configuration the tests were built in:
/// next to the test executable, else in `<scratch>/<configuration>/`. Throws, naming where it looked, when it is
/// missing.
public func builtProduct(_ name: String) throws -> String {
    let sameDirectory = testBinaryDirectory.appendingPathComponent(name).path
    // <scratch>/<triple>/<configuration>/ -> <scratch>/<configuration>/
    let configuration = testBinaryDirectory.lastPathComponent
    let scratch = testBinaryDirectory.deletingLastPathComponent().deletingLastPathComponent()
    let linked = scratch.appendingPathComponent(configuration)
    var candidates = [sameDirectory]
    if linked.resolvingSymlinksInPath().path != testBinaryDirectory.resolvingSymlinksInPath().path {
        candidates.append(linked.appendingPathComponent(name).path)
    }
    for path in candidates where FileManager.default.isExecutableFile(atPath: path) { return path }
    throw MissingExecutable(
        description: """
            \(name) is not built: no executable at \(candidates.joined(separator: " nor at ")); run `swift build` in \
            \(packageRoot) first, with the configuration of `swift test` (`swift build -c \(configuration)`)
            """)
}

/// The built `vmctl`.
public var vmctlPath: String { get throws { try builtProduct("vmctl") } }

/// The built resource agent as installed: the front, which asks `vmctl watch` for monitors and runs the full
/// agent for the rest.
public var agentPath: String { get throws { try builtProduct("vmmanager") } }

/// The built full agent (`<prefix>/lib/vmmanager/vmmanager-agent` once installed), which the front runs.
public var fullAgentPath: String { get throws { try builtProduct("vmmanager-agent") } }

/// The sanitizers' options of this process (`ASAN_OPTIONS`, `TSAN_OPTIONS`, ...), for the executables a test
/// runs with an environment of its own: a suite run under a sanitizer runs its children under the same options.
public var sanitizerEnvironment: [String: String] {
    ProcessInfo.processInfo.environment.filter { $0.key.hasSuffix("SAN_OPTIONS") }
}
