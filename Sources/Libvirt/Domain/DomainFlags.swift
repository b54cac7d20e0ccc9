internal import CLibvirt

/// Which domains ``Connection/domains(_:)`` returns; empty means all. Each option names its C constant.
public struct DomainListFilter: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VIR_CONNECT_LIST_DOMAINS_ACTIVE`
    public static let active = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue)
    /// `VIR_CONNECT_LIST_DOMAINS_INACTIVE`
    public static let inactive = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_INACTIVE.rawValue)
    /// `VIR_CONNECT_LIST_DOMAINS_PERSISTENT`
    public static let persistent = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_PERSISTENT.rawValue)
    /// `VIR_CONNECT_LIST_DOMAINS_TRANSIENT`
    public static let transient = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_TRANSIENT.rawValue)
    /// `VIR_CONNECT_LIST_DOMAINS_RUNNING`
    public static let running = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_RUNNING.rawValue)
    /// `VIR_CONNECT_LIST_DOMAINS_PAUSED`
    public static let paused = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_PAUSED.rawValue)
    /// `VIR_CONNECT_LIST_DOMAINS_SHUTOFF`
    public static let shutOff = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_SHUTOFF.rawValue)
    /// `VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE`
    public static let withManagedSave = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE.rawValue)
}

/// How ``Domain/start(flags:timeout:)`` starts a domain.
public struct StartFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VIR_DOMAIN_START_PAUSED`: leave the CPUs paused.
    public static let paused = Self(rawValue: VIR_DOMAIN_START_PAUSED.rawValue)
    /// `VIR_DOMAIN_START_AUTODESTROY`: destroy the domain when this connection closes.
    public static let autoDestroy = Self(rawValue: VIR_DOMAIN_START_AUTODESTROY.rawValue)
    /// `VIR_DOMAIN_START_BYPASS_CACHE`: read a managed-save image without the host page cache.
    public static let bypassCache = Self(rawValue: VIR_DOMAIN_START_BYPASS_CACHE.rawValue)
    /// `VIR_DOMAIN_START_FORCE_BOOT`: cold-boot, discarding a managed-save image.
    public static let forceBoot = Self(rawValue: VIR_DOMAIN_START_FORCE_BOOT.rawValue)
}

/// How ``Domain/shutdown(modes:timeout:)`` asks the guest to power off; empty lets the driver choose.
public struct ShutdownModes: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN`
    public static let acpiPowerButton = Self(rawValue: VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN.rawValue)
    /// `VIR_DOMAIN_SHUTDOWN_GUEST_AGENT`
    public static let guestAgent = Self(rawValue: VIR_DOMAIN_SHUTDOWN_GUEST_AGENT.rawValue)
    /// `VIR_DOMAIN_SHUTDOWN_INITCTL`
    public static let initctl = Self(rawValue: VIR_DOMAIN_SHUTDOWN_INITCTL.rawValue)
    /// `VIR_DOMAIN_SHUTDOWN_SIGNAL`
    public static let signal = Self(rawValue: VIR_DOMAIN_SHUTDOWN_SIGNAL.rawValue)
    /// `VIR_DOMAIN_SHUTDOWN_PARAVIRT`
    public static let paravirt = Self(rawValue: VIR_DOMAIN_SHUTDOWN_PARAVIRT.rawValue)
}

/// Flags of save, restore and managed save.
public struct SaveRestoreFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VIR_DOMAIN_SAVE_BYPASS_CACHE`
    public static let bypassCache = Self(rawValue: VIR_DOMAIN_SAVE_BYPASS_CACHE.rawValue)
    /// `VIR_DOMAIN_SAVE_RUNNING`: the restored domain runs, whatever it was when saved.
    public static let running = Self(rawValue: VIR_DOMAIN_SAVE_RUNNING.rawValue)
    /// `VIR_DOMAIN_SAVE_PAUSED`: the restored domain stays paused.
    public static let paused = Self(rawValue: VIR_DOMAIN_SAVE_PAUSED.rawValue)
}

/// What ``Domain/undefine(flags:)`` also removes. Without `.managedSave`, libvirt refuses to undefine a
/// domain that has a managed-save image — nothing is lost silently.
public struct UndefineFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VIR_DOMAIN_UNDEFINE_MANAGED_SAVE`: also delete the managed-save image.
    public static let managedSave = Self(rawValue: VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue)
    /// `VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA`
    public static let snapshotsMetadata = Self(rawValue: VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue)
    /// `VIR_DOMAIN_UNDEFINE_NVRAM`
    public static let nvram = Self(rawValue: VIR_DOMAIN_UNDEFINE_NVRAM.rawValue)
    /// `VIR_DOMAIN_UNDEFINE_KEEP_NVRAM`
    public static let keepNVRAM = Self(rawValue: VIR_DOMAIN_UNDEFINE_KEEP_NVRAM.rawValue)
}

/// Which XML ``Domain/xml(_:)`` returns.
public struct XMLFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VIR_DOMAIN_XML_SECURE`: include passwords.
    public static let secure = Self(rawValue: VIR_DOMAIN_XML_SECURE.rawValue)
    /// `VIR_DOMAIN_XML_INACTIVE`: the persistent definition, not the live one.
    public static let inactive = Self(rawValue: VIR_DOMAIN_XML_INACTIVE.rawValue)
    /// `VIR_DOMAIN_XML_UPDATE_CPU`
    public static let updateCPU = Self(rawValue: VIR_DOMAIN_XML_UPDATE_CPU.rawValue)
    /// `VIR_DOMAIN_XML_MIGRATABLE`: suitable for another host.
    public static let migratable = Self(rawValue: VIR_DOMAIN_XML_MIGRATABLE.rawValue)
}
