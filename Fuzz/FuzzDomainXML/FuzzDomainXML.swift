// Fuzz target: domain XML, `DomainDefinition(xml:)` (Libvirt, through libxml2), then `StableIdentity.pin(_:)` on
// whatever parses. Built with libFuzzer only by `make fuzz`; see docs/reliability-fuzzing.md. Without -D FUZZING it
// is a replayer: `FuzzDomainXML FILE|DIR...`.
//
// Checked besides "does not crash": the pinned XML (what every node hands to virDomainDefineXML) parses again with
// the same name, a UUID and a MAC on every interface; pinning is deterministic and pinning the pinned XML changes
// nothing ("present values are never changed").
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Libvirt
import FuzzSupport
import VMManager

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size), as: UTF8.self)
    let definition: DomainDefinition
    do { definition = try DomainDefinition(xml: text) } catch {
        _ = error.description
        return 0
    }
    _ = (definition.uuid, definition.hypervisorType, definition.memoryKiB, definition.hasGuestAgentChannel)
    _ = (definition.disks, definition.serials, definition.consoles, definition.channels)

    let pinned = StableIdentity.pin(definition)
    for change in pinned.changes { _ = change.description }
    let again: DomainDefinition
    do { again = try DomainDefinition(xml: pinned.definition.xml) } catch {
        preconditionFailure("the pinned XML does not parse again: \(error)")
    }
    precondition(again.name == definition.name, "pinning changed the name \(definition.name.debugDescription) "
                 + "to \(again.name.debugDescription)")
    precondition(again.uuid != nil, "the pinned XML has no <uuid>")
    precondition(again.interfaces.count == definition.interfaces.count, "pinning changed the number of interfaces")
    precondition(again.interfaces.allSatisfy { $0.mac != nil }, "an interface of the pinned XML has no MAC")
    if let uuid = definition.uuid { precondition(again.uuid == uuid, "pinning changed the UUID") }
    for (before, after) in zip(definition.interfaces, again.interfaces) where before.mac != nil {
        precondition(before.mac == after.mac, "pinning changed a MAC")
    }
    precondition(StableIdentity.pin(definition).definition.xml == pinned.definition.xml, "pinning is not deterministic")
    precondition(StableIdentity.pin(again).isUnchanged, "pinning the pinned XML changed it again")
    for conflict in StableIdentity.macConflicts(of: again, among: [definition]) { _ = conflict.description }
    return 0
}

// MARK: Driver (FuzzSupport)

@main
struct FuzzMain {
    static func main() { exit(FuzzDriver.run(fuzz)) }
}
