import ArgumentParser
import Dispatch
import Foundation
import Libvirt
import VMManager

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print guests' life-cycle events as they happen.",
        discussion: """
            One line per event: the time (UTC, ISO 8601), the guest, the event and its detail, as libvirt reports them \
            (started booted, suspended paused, stopped saved, stopped migrated, defined added, ...), plus "agent \
            connected" and "agent disconnected" when a guest's QEMU guest agent comes and goes (drivers that report \
            it). With a guest name or UUID, only that guest's events; the guest need not exist yet.

            Runs until Ctrl-C or SIGTERM (exit 0). Exits 3 when the connection to libvirt is lost (the daemon stopped \
            or stopped answering keepalives).

            With --json, one compact JSON object per line, with the keys time, guest, uuid, event and detail \
            (docs/vmctl.md). Lines are flushed as they come, so they can be piped.

            Examples:
              vmctl events
              vmctl events web1
              vmctl events --json | jq -c 'select(.event == "stopped")'
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Only this guest's events (name or UUID).", completion: guestNameCompletion) var guest: String?
    @Flag(help: "One JSON object per line instead of text.") var json = false

    struct Line: Encodable {
        let time: Date
        let guest: String
        let uuid: String
        let event: String
        let detail: String
    }

    func run() async throws {
        var lost = false
        try await guarded {
            let host = try await connection.connect(readOnly: true)
            let stream = try await host.connection.events()
            let wanted = guest
            let json = json
            let (signals, signalled) = AsyncStream.makeStream(of: Int32.self)
            let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { signalled.yield(sig) }
                source.resume()
                return source
            }
            defer { sources.forEach { $0.cancel() } }
            // On stderr, so it never mixes with the events; it also tells a script that the watch is in place.
            let what = wanted.map { "guest \($0)" } ?? "all guests"
            FileHandle.standardError.write(Data("vmctl: watching \(what) on \(connection.uri); Ctrl-C ends\n".utf8))
            lost = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    for await event in stream {
                        if let wanted, wanted != event.domainName,
                            wanted.lowercased() != event.domainUUID.lowercasedString
                        {
                            continue
                        }
                        Self.print(event, json: json)
                    }
                    return false
                }
                group.addTask {
                    for await _ in signals { return false }
                    return false
                }
                group.addTask {
                    // Without this, a daemon that goes away would leave us waiting silently forever.
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(2))
                        if Task.isCancelled { break }
                        if await !host.connection.isAlive() { return true }
                    }
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
        }
        if lost {
            FileHandle.standardError.write(Data("vmctl: lost the connection to \(connection.uri)\n".utf8))
            throw ExitCode(3)
        }
    }

    static func print(_ event: DomainEvent, json: Bool) {
        let (name, detail): (String, String)
        switch event.kind {
        case .lifecycle(let l): (name, detail) = (l.typeName, l.detailName)
        case .agent(let connected, _): (name, detail) = ("agent", connected ? "connected" : "disconnected")
        }
        if json {
            let line = Line(
                time: event.received, guest: event.domainName, uuid: event.domainUUID.lowercasedString,
                event: name, detail: detail)
            try? Output.json(line, compact: true)
            fflush(nil)  // nil: every stream; `stdout` is a global Swift 6 will not touch
        } else {
            Output.line(
                "\(Output.timestamp(event.received))  \(event.domainName)  "
                    + "\(name.padding(toLength: 11, withPad: " ", startingAt: 0))  \(detail)"
            )
        }
    }
}
