import Logging
import ServiceLifecycle
import VMManager

/// `vmctl watch`'s delivery of the spool, as a `Service`: one flush at startup, one every `flushInterval`, and
/// one after each ``request()``. At most one flush runs at a time in this process; requests made during a
/// flush make it run once more, not once per request.
///
/// On graceful shutdown it finishes the delivery under way (a flush is never cut short: an event must not be
/// sent twice because its removal from the spool was interrupted) and then returns without starting another;
/// what is left waits in the spool for the next flush. Cancellation asks the flush under way to stop early.
public final class SpoolFlusher: Service, Sendable {
    public let options: LifecycleWatcher.Options
    public let logger: Logger
    private let requests: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init(options: LifecycleWatcher.Options, logger: Logger) {
        self.options = options
        self.logger = logger
        // One pending request is all a flush needs: it reads the whole spool.
        (requests, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a flush as soon as the one under way (if any) has ended.
    public func request() {
        continuation.yield()
    }

    /// Flushes until a graceful shutdown or cancellation. Runs once per flusher.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { [continuation, interval = options.flushInterval] in
                while !Task.isCancelled {
                    continuation.yield()
                    try? await Task.sleep(for: interval)
                }
            }
            await withGracefulShutdownHandler {
                for await _ in requests {
                    if Task.isShuttingDownGracefully { break }
                    await flushOnce()
                }
            } onGracefulShutdown: { [continuation] in
                continuation.finish()
            }
            group.cancelAll()
        }
        logger.debug("spool flusher stopped")
    }

    private func flushOnce() async {
        let notifier = Notifier.load(
            configPath: options.configPath, spoolDirectory: options.spoolDirectory,
            logger: logger)
        let report = await notifier.deliverPending(waitForOtherFlush: true)
        if report.delivered > 0 || !report.failures.isEmpty {
            logger.info(
                "flushed the spool",
                metadata: [
                    "delivered": "\(report.delivered)", "remaining": "\(report.remaining)",
                    "failing": "\(report.failures.keys.sorted().joined(separator: "; "))",
                ])
        }
    }
}
