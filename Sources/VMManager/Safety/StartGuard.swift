import Libvirt
import Logging

/// The seeds' "no uncontrolled resurrection": before a guest starts here, make sure its UUID is not
/// running on a peer node. Peers are asked read-only, each within a short deadline. A peer that cannot
/// be reached does not block the start — it may be exactly the node that failed; the cluster's fencing
/// is what makes that case safe.
public struct StartGuard: Sendable {
    public let peers: [String]
    public let logger: Logger

    public init(peers: [String], logger: Logger) {
        self.peers = peers
        self.logger = logger
    }

    /// - Throws: ``VMError`` `.refused` naming the peer when the guest runs there.
    public func check(_ domain: Domain, timeout: Duration) async throws {
        for peer in peers {
            let options = Connection.Options(readOnly: true, timeout: timeout, keepAlive: nil)
            let connection: Connection
            do { connection = try await Connection.open(peer, options: options) } catch {
                logger.warning("start guard: peer unreachable, not blocking the start",
                               metadata: ["peer": "\(peer)", "error": "\(error.message)"])
                continue
            }
            defer { Task { try? await connection.close() } }
            guard let there = try? await connection.domainIfExists(uuid: domain.uuid) else { continue }
            if let state = try? await there.state(), state.isActive {
                throw VMError(.refused, "guest \(domain.name) (\(domain.uuid.lowercasedString)) is \(state.kind) on "
                              + "peer \(peer); refusing to start it here too")
            }
        }
    }
}
