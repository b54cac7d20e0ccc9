import Foundation
import IntegrationSupport
import Libvirt
import Testing
import VMManager

/// A libvirtd that stops answering (here: SIGSTOP on node B's daemon) must turn into a timeout error
/// within the deadline, never a hang.
@Suite(
    "Deadlines against a stopped libvirtd", .serialized, .enabled(if: Testbed.isRequested, "run through `make test`"))
struct DeadlineTests {
    @Test func sigstoppedDaemonGivesATimeoutWithinTheDeadline() async throws {
        let testbed = try Testbed.load()
        let pidFile = try testbed.value("TESTBED_DIR") + "/run/nodeB-libvirtd.pid"
        let pidText = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let pid = try #require(Int32(pidText), "no pid in \(pidFile)")
        let uri = try testbed.nodeB()
        let options = Connection.Options(timeout: .seconds(2), keepAlive: (interval: 1, count: 2))
        let connected = try await Connection.open(uri, options: options)

        #expect(kill(pid, SIGSTOP) == 0)
        defer { kill(pid, SIGCONT) }
        let clock = ContinuousClock()

        // A call on an open connection.
        var started = clock.now
        let callError = await #expect(throws: LibvirtError.self) { _ = try await connected.domains() }
        #expect(
            callError?.code == .timedOut || callError?.code == .rpc || callError?.code == .noConnect,
            "\(String(describing: callError))")
        #expect(clock.now - started < .seconds(4))

        // Opening a new connection.
        started = clock.now
        let openError = await #expect(throws: LibvirtError.self) {
            _ = try await Connection.open(uri, options: options)
        }
        #expect(openError?.code == .timedOut)
        #expect(openError?.description.contains("libvirtd") == true)
        #expect(clock.now - started < .seconds(4))

        // The same through the HA layer: a clear, classified error.
        started = clock.now
        let vmError = await #expect(throws: VMError.self) {
            _ = try await Hypervisor.connect(uri, timeout: .seconds(2))
        }
        #expect(vmError?.code == .timedOut)
        #expect(clock.now - started < .seconds(4))

        kill(pid, SIGCONT)
        // Once the daemon runs again, new connections work.
        try await Task.sleep(for: .milliseconds(300))
        let again = try await Connection.open(uri, options: Connection.Options(timeout: .seconds(10)))
        #expect(try await again.libvirtVersion() > 0)
    }
}
