import Foundation
import Testing
@testable import VMManager

/// The `tcp:HOST:PORT` readiness probe against loopback sockets of the test itself.
@Suite("TCP readiness probe")
struct TCPProbeTests {
    /// A listening socket on 127.0.0.1 and its port (the kernel picks it).
    static func listener() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0 && listen(fd, 4) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    @Test func aListeningPortIsReady() async throws {
        let (fd, port) = try Self.listener()
        defer { close(fd) }
        #expect(await TCPProbe.connect(host: "127.0.0.1", port: port, timeout: .seconds(2)) == nil)
    }

    @Test func aClosedPortSaysWhy() async throws {
        let (fd, port) = try Self.listener()
        close(fd)  // nobody listens there any more
        let why = await TCPProbe.connect(host: "127.0.0.1", port: port, timeout: .seconds(2))
        #expect(why?.contains("127.0.0.1:\(port)") == true, "\(String(describing: why))")
    }

    @Test func anUnresolvableHostSaysSo() async {
        let why = await TCPProbe.connect(host: "no-such-host.invalid", port: 22, timeout: .seconds(1))
        #expect(why?.hasPrefix("cannot resolve no-such-host.invalid") == true, "\(String(describing: why))")
    }
}
