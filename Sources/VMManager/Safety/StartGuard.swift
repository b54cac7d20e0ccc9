import Libvirt
import Logging

/// The seeds' "no uncontrolled resurrection": before a guest starts here, make sure its UUID is not
/// running on a peer node. Peers are asked read-only, each within a short deadline. A peer that cannot
/// be reached does not block the start — it may be exactly the node that failed; the cluster's fencing
/// is what makes that case safe.
///
/// A peer whose libvirtd runs on this very host (same host name as the local daemon reports) is skipped,
/// so one `peers` list naming every node can be shared by all of them: resource parameters are
/// cluster-wide, and a node that found itself in the list would otherwise refuse to start its own guest.
public struct StartGuard: Sendable {
    public let peers: [String]
    public let logger: Logger

    public init(peers: [String], logger: Logger) {
        self.peers = peers
        self.logger = logger
    }

    /// - Parameter localHost: the host name of this node's libvirtd (peers reporting it are this node).
    /// - Throws: ``VMError`` `.refused` naming the peer when the guest runs there.
    public func check(_ domain: Domain, localHost: String?, timeout: Duration) async throws {
        for peer in peers {
            let options = Connection.Options(readOnly: true, timeout: timeout, keepAlive: nil)
            let connection: Connection
            do { connection = try await Connection.open(peer, options: options) } catch {
                logger.warning(
                    "start guard: peer unreachable, not blocking the start",
                    metadata: ["peer": "\(peer)", "error": "\(error.message)"])
                continue
            }
            defer { Task { try? await connection.close() } }
            if let localHost, let peerHost = try? await connection.hostname(), peerHost == localHost {
                logger.debug("start guard: skipping this node itself", metadata: ["peer": "\(peer)"])
                continue
            }
            guard let there = try? await connection.domainIfExists(uuid: domain.uuid) else { continue }
            if let state = try? await there.state(), state.isActive {
                throw VMError(
                    .refused,
                    "guest \(domain.name) (\(domain.uuid.lowercasedString)) is \(state.kind) on "
                        + "peer \(peer); refusing to start it here too")
            }
        }
    }
}
