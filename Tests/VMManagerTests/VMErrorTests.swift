import Foundation
import Testing
@testable import VMManager

@Suite("One error type")
struct VMErrorTests {
    @Test("a code matches an error of that code, by ~= in a catch or a switch")
    func codePattern() {
        let error: any Error = VMError(.timedOut, "waiting for web1: deadline passed")
        #expect(VMError.Code.timedOut ~= error)
        #expect(!(VMError.Code.refused ~= error))
        #expect(!(VMError.Code.timedOut ~= CancellationError()))
        let matched: String =
            switch error {
            case VMError.Code.refused: "refused"
            case VMError.Code.timedOut: "timed out"
            default: "other"
            }
        #expect(matched == "timed out")
        do { throw error } catch VMError.Code.timedOut {} catch { Issue.record("not matched: \(error)") }
    }

    @Test("a configuration error is classified: a missing file is not installed, anything else misconfigured")
    func classifying() {
        let missing = ConfigError(
            .notFound, file: "/etc/x.conf", line: nil, key: nil, "the configuration file does not exist")
        #expect(VMError(classifying: missing)?.code == .notInstalled)
        #expect(VMError(classifying: missing)?.message == "\(missing)")
        let wrong = ConfigError(.invalidValue, file: nil, line: nil, key: "stop_methods", "needs at least one method")
        #expect(VMError(classifying: wrong)?.code == .misconfigured)
        let own = VMError(.permission, "cannot write the CIB")
        #expect(VMError(classifying: own)?.code == .permission && VMError(classifying: own)?.message == own.message)
        #expect(VMError(classifying: CancellationError()) == nil)
    }
}
