// Fuzz target: the notifier spool's file reader. `Spool.read` is internal; the narrowest public entry that reads
// spool files is `Notifier.pending()` (every `*.event` file of the spool directory, decoded as a SpooledEvent), so
// the input is written as one event file into a temporary spool directory and read through it. The same bytes are
// also written as the guest's transition history (`.history/<guest>.jsonl`, one TransitionEvent per line) and read
// through `Notifier.history(guest:limit:)`, the other public reader of the spool directory. What decodes is then
// rendered as a flush would: the mail (`MailMessage`) and the webhook body (`WebhookPayload`). Built with libFuzzer
// only by `make fuzz`; see docs/reliability-fuzzing.md. Without -D FUZZING it is a replayer: `FuzzSpool FILE|DIR...`.
//
// Checked besides "does not crash": a decoded event encodes and decodes back to an equal event (the flush rewrites
// spool files), and the mail's header block has CRLF line ends only, every line a known header or a folded
// continuation (no header injection from a spooled field).
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import FuzzSupport
import VMManager
import VMManagerDelivery

let eventName = "20240507T140309.123456Z-00000000-0000-4000-8000-000000000000.event"
let spoolDirectory: String = {
    let directory = FuzzTemp.directory + "/spool"
    mkdir(directory, 0o700)
    mkdir(directory + "/.history", 0o700)
    return directory
}()
let notifier = Notifier(configuration: nil, spoolDirectory: spoolDirectory)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
    FuzzTemp.write(bytes, to: "\(spoolDirectory)/\(eventName)")
    FuzzTemp.write(bytes, to: "\(spoolDirectory)/.history/fuzz.jsonl")

    let pending = notifier.pending()
    precondition(pending.count == 1 && pending[0].name == eventName, "pending() lists \(pending.map(\.name))")
    switch pending[0].content {
    case .success(let spooled):
        check(spooled.event)
        _ = (spooled.format, spooled.delivered.count, spooled.attempts.values.map(\.lastError))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]  // Spool.write's encoder
        if let data = try? encoder.encode(spooled) {
            do {
                let back = try JSONDecoder().decode(SpooledEvent.self, from: data)
                precondition(back.event == spooled.event, "a rewritten spool file reads back as another event")
            } catch {
                preconditionFailure("a rewritten spool file no longer reads: \(error)")
            }
        }
    case .failure(let error):
        _ = error.description
    }
    for event in notifier.history(guest: "fuzz", limit: 200) { check(event) }
    return 0
}

let knownHeaders: Set<String> = ["Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Auto-Submitted",
                                  "X-Vmmanager-Event-Id", "X-Vmmanager-Transition", "Content-Type",
                                  "Content-Transfer-Encoding"]

/// Renders `event` as a flush would and checks the mail's header block.
func check(_ event: TransitionEvent) {
    _ = event.subject
    _ = WebhookPayload(event).json()
    let mail = MailMessage(event: event, from: "vmmanager@example.org", to: ["admins@example.org"])
    let bytes = mail.bytes
    let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
    // The header block, cut into lines at CRLF; it ends at the first empty line.
    var lines: [[UInt8]] = [[]]
    var i = 0
    while i < bytes.count {
        if bytes[i] == cr && i + 1 < bytes.count && bytes[i + 1] == lf {
            if lines[lines.count - 1].isEmpty { break }
            lines.append([])
            i += 2
            continue
        }
        lines[lines.count - 1].append(bytes[i])
        i += 1
    }
    precondition(i < bytes.count, "the mail has no end of headers")
    for line in lines.dropLast() {
        let shown = String(decoding: line, as: UTF8.self).debugDescription
        precondition(!line.contains(cr) && !line.contains(lf), "a bare CR or LF in the mail's header line \(shown)")
        if line.first == UInt8(ascii: " ") || line.first == UInt8(ascii: "\t") { continue }  // folded
        let name = String(decoding: line.prefix { $0 != UInt8(ascii: ":") }, as: UTF8.self)
        precondition(knownHeaders.contains(name), "the mail has a header line \(shown)")
    }
}

// MARK: Driver (FuzzSupport)

@main
struct FuzzMain {
    static func main() { exit(FuzzDriver.run(fuzz)) }
}
