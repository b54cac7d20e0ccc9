/// VirtualDomain's `migrate_options`: the `virsh migrate` options users put there, turned into libvirt's
/// migration flags and parameters. VirtualDomain pastes the string into a `virsh migrate` command line;
/// vmmanager calls the API, so each option is understood or refused — an option it does not know is a
/// configuration error that names it (validate-all and every action exit 6), never a string passed on
/// or quietly dropped.
public struct MigrateOptions: Sendable, Hashable {
    /// `--p2p`: the source libvirtd connects to the target itself.
    public var peerToPeer = false
    /// `--tunnelled` (needs `--p2p`): the memory stream goes through the libvirtd connection.
    public var tunnelled = false
    /// `--compressed`: compress the memory stream (QEMU's XBZRLE/multi-thread compression).
    public var compressed = false
    /// `--auto-converge`: slow the guest's vCPUs down when it dirties memory faster than it is sent.
    public var autoConverge = false
    /// `--postcopy`: allow post-copy (the switch to it is libvirt's or an admin's).
    public var postcopy = false
    /// `--unsafe`: migrate although libvirt does not know the disks to be on shared storage.
    public var unsafe = false
    /// `--tls`: encrypt QEMU's migration stream with TLS.
    public var tls = false
    /// `--parallel` / `--parallel-connections N`.
    public var parallelConnections: Int?
    /// `--copy-storage-all` / `--copy-storage-inc`: copy the disks too (no shared storage).
    public enum StorageCopy: Sendable, Hashable { case all, incremental }
    public var copyStorage: StorageCopy?
    /// `--migrateuri URI` (`%n` = the target node), as VirtualDomain: `migrateuri` wins over it.
    public var migrateURI: String?
    /// `--listen-address ADDR`: where QEMU on the target listens.
    public var listenAddress: String?
    /// `--bandwidth N` in MiB/s.
    public var bandwidthMiBPerSecond: Int?
    /// `--timeout N` (virsh's `--timeout-suspend`): pause the guest after N s so the copy converges.
    public var suspendAfterSeconds: Int?
    /// `--change-protection`.
    public var changeProtection = false

    public init() {}

    /// Options with nothing to do because vmmanager always does them (or they only change virsh's output).
    static let alwaysOn: [String: String] = [
        "--live": "migrations are always live",
        "--persistent": "the guest is always defined persistently on the target",
        "--abort-on-error": "always on: an I/O error aborts the migration",
        "--verbose": "virsh's progress output",
        "--timeout-suspend": "what --timeout does",
    ]
    /// Options a cluster resource must not take, with the reason given to the admin.
    static let refused: [String: String] = [
        "--offline": "a resource migrates running guests; Pacemaker stops and starts a stopped one",
        "--undefinesource": "the source keeps the definition so that the guest can start there again",
        "--dname": "renaming the guest on the target would leave the resource managing a name that no longer exists",
        "--xml": "the target must run the guest's own XML",
        "--persistent-xml": "the target must keep the guest's own XML",
        "--direct": "QEMU-to-QEMU without libvirt on the target is not supported by the QEMU driver",
        "--postcopy-after-precopy": "the switch to post-copy is not driven by the agent; use --postcopy",
        "--timeout-postcopy": "the switch to post-copy is not driven by the agent; use --timeout (suspend)",
        "--desturi": "the target comes from Pacemaker (migrate_target) through remoteuri or migration_transport",
        "--domain": "the guest comes from the resource's config or domain",
        "--async": "the agent waits for the migration it starts",
    ]
    static let withValue: Set<String> = [
        "--migrateuri", "--listen-address", "--bandwidth", "--timeout",
        "--parallel-connections", "--dname", "--xml", "--persistent-xml",
        "--desturi", "--domain",
    ]

    /// Parses the option string (`--opt`, `--opt value`, `--opt=value`, separated by white space).
    /// - Throws: ``ConfigError`` `.invalidValue` on key `migrate_options`, naming the option.
    public static func parse(_ text: String) throws(ConfigError) -> MigrateOptions {
        var o = MigrateOptions()
        var words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)[...]
        func fail(_ why: String) -> ConfigError {
            ConfigError(.invalidValue, file: nil, line: nil, key: "migrate_options", why)
        }
        while let word = words.popFirst() {
            var name = word
            var value: String?
            if let eq = word.firstIndex(of: "=") {
                name = String(word[..<eq])
                value = String(word[word.index(after: eq)...])
            }
            guard name.hasPrefix("--") else {
                throw fail("'\(ConfigError.excerpt(word))' is not an option (virsh migrate options start with --)")
            }
            if let why = refused[name] { throw fail("\(name) is refused: \(why)") }
            if alwaysOn[name] != nil {
                if value != nil { throw fail("\(name) takes no value") }
                continue
            }
            if withValue.contains(name), value == nil {
                guard let next = words.popFirst() else { throw fail("\(name) needs a value") }
                value = next
            }
            func number(_ range: ClosedRange<Int>) throws(ConfigError) -> Int {
                guard let v = value.flatMap({ Int($0) }), range.contains(v) else {
                    throw fail(
                        "\(name) needs a whole number in \(range.lowerBound)…\(range.upperBound), not "
                            + "'\(ConfigError.excerpt(value ?? ""))'")
                }
                return v
            }
            if !withValue.contains(name), value != nil { throw fail("\(name) takes no value") }
            switch name {
            case "--p2p": o.peerToPeer = true
            case "--tunnelled", "--tunneled": o.tunnelled = true
            case "--compressed": o.compressed = true
            case "--auto-converge": o.autoConverge = true
            case "--postcopy": o.postcopy = true
            case "--unsafe": o.unsafe = true
            case "--tls": o.tls = true
            case "--change-protection": o.changeProtection = true
            case "--parallel": o.parallelConnections = o.parallelConnections ?? 2
            case "--parallel-connections": o.parallelConnections = try number(1...255)
            case "--copy-storage-all": o.copyStorage = .all
            case "--copy-storage-inc": o.copyStorage = .incremental
            case "--migrateuri": o.migrateURI = value
            case "--listen-address": o.listenAddress = value
            case "--bandwidth": o.bandwidthMiBPerSecond = try number(1...1_000_000)
            case "--timeout": o.suspendAfterSeconds = try number(1...86_400)
            default:
                throw fail(
                    "unknown option \(ConfigError.excerpt(name)); vmmanager honours --p2p, --tunnelled, "
                        + "--compressed, --auto-converge, --postcopy, --unsafe, --tls, --parallel, "
                        + "--parallel-connections N, --copy-storage-all, --copy-storage-inc, --migrateuri URI, "
                        + "--listen-address A, --bandwidth MiB/s, --timeout s, --change-protection")
            }
        }
        if o.tunnelled && !o.peerToPeer { throw fail("--tunnelled needs --p2p (as virsh migrate says)") }
        if o.tunnelled && o.migrateURI != nil { throw fail("--tunnelled and --migrateuri contradict each other") }
        return o
    }
}
