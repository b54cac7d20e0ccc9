// Generated from /usr/include/libvirt/virterror.h (libvirt 9.0) by scripts/generate-libvirt-error-codes.py; names only.
// libvirt may add codes later: unknown values are kept as raw numbers, never dropped.

extension LibvirtError.Code {
    /// `VIR_ERR_INTERNAL_ERROR`
    public static let internalError = Self(rawValue: 1)
    /// `VIR_ERR_NO_MEMORY`
    public static let noMemory = Self(rawValue: 2)
    /// `VIR_ERR_NO_SUPPORT`
    public static let noSupport = Self(rawValue: 3)
    /// `VIR_ERR_UNKNOWN_HOST`
    public static let unknownHost = Self(rawValue: 4)
    /// `VIR_ERR_NO_CONNECT`
    public static let noConnect = Self(rawValue: 5)
    /// `VIR_ERR_INVALID_CONN`
    public static let invalidConn = Self(rawValue: 6)
    /// `VIR_ERR_INVALID_DOMAIN`
    public static let invalidDomain = Self(rawValue: 7)
    /// `VIR_ERR_INVALID_ARG`
    public static let invalidArg = Self(rawValue: 8)
    /// `VIR_ERR_OPERATION_FAILED`
    public static let operationFailed = Self(rawValue: 9)
    /// `VIR_ERR_GET_FAILED`
    public static let getFailed = Self(rawValue: 10)
    /// `VIR_ERR_POST_FAILED`
    public static let postFailed = Self(rawValue: 11)
    /// `VIR_ERR_HTTP_ERROR`
    public static let httpError = Self(rawValue: 12)
    /// `VIR_ERR_SEXPR_SERIAL`
    public static let sexprSerial = Self(rawValue: 13)
    /// `VIR_ERR_NO_XEN`
    public static let noXen = Self(rawValue: 14)
    /// `VIR_ERR_XEN_CALL`
    public static let xenCall = Self(rawValue: 15)
    /// `VIR_ERR_OS_TYPE`
    public static let osType = Self(rawValue: 16)
    /// `VIR_ERR_NO_KERNEL`
    public static let noKernel = Self(rawValue: 17)
    /// `VIR_ERR_NO_ROOT`
    public static let noRoot = Self(rawValue: 18)
    /// `VIR_ERR_NO_SOURCE`
    public static let noSource = Self(rawValue: 19)
    /// `VIR_ERR_NO_TARGET`
    public static let noTarget = Self(rawValue: 20)
    /// `VIR_ERR_NO_NAME`
    public static let noName = Self(rawValue: 21)
    /// `VIR_ERR_NO_OS`
    public static let noOs = Self(rawValue: 22)
    /// `VIR_ERR_NO_DEVICE`
    public static let noDevice = Self(rawValue: 23)
    /// `VIR_ERR_NO_XENSTORE`
    public static let noXenstore = Self(rawValue: 24)
    /// `VIR_ERR_DRIVER_FULL`
    public static let driverFull = Self(rawValue: 25)
    /// `VIR_ERR_CALL_FAILED`
    public static let callFailed = Self(rawValue: 26)
    /// `VIR_ERR_XML_ERROR`
    public static let xmlError = Self(rawValue: 27)
    /// `VIR_ERR_DOM_EXIST`
    public static let domExist = Self(rawValue: 28)
    /// `VIR_ERR_OPERATION_DENIED`
    public static let operationDenied = Self(rawValue: 29)
    /// `VIR_ERR_OPEN_FAILED`
    public static let openFailed = Self(rawValue: 30)
    /// `VIR_ERR_READ_FAILED`
    public static let readFailed = Self(rawValue: 31)
    /// `VIR_ERR_PARSE_FAILED`
    public static let parseFailed = Self(rawValue: 32)
    /// `VIR_ERR_CONF_SYNTAX`
    public static let confSyntax = Self(rawValue: 33)
    /// `VIR_ERR_WRITE_FAILED`
    public static let writeFailed = Self(rawValue: 34)
    /// `VIR_ERR_XML_DETAIL`
    public static let xmlDetail = Self(rawValue: 35)
    /// `VIR_ERR_INVALID_NETWORK`
    public static let invalidNetwork = Self(rawValue: 36)
    /// `VIR_ERR_NETWORK_EXIST`
    public static let networkExist = Self(rawValue: 37)
    /// `VIR_ERR_SYSTEM_ERROR`
    public static let systemError = Self(rawValue: 38)
    /// `VIR_ERR_RPC`
    public static let rpc = Self(rawValue: 39)
    /// `VIR_ERR_GNUTLS_ERROR`
    public static let gnutlsError = Self(rawValue: 40)
    /// `VIR_ERR_NO_DOMAIN`
    public static let noDomain = Self(rawValue: 42)
    /// `VIR_ERR_NO_NETWORK`
    public static let noNetwork = Self(rawValue: 43)
    /// `VIR_ERR_INVALID_MAC`
    public static let invalidMac = Self(rawValue: 44)
    /// `VIR_ERR_AUTH_FAILED`
    public static let authFailed = Self(rawValue: 45)
    /// `VIR_ERR_INVALID_STORAGE_POOL`
    public static let invalidStoragePool = Self(rawValue: 46)
    /// `VIR_ERR_INVALID_STORAGE_VOL`
    public static let invalidStorageVol = Self(rawValue: 47)
    /// `VIR_ERR_NO_STORAGE_POOL`
    public static let noStoragePool = Self(rawValue: 49)
    /// `VIR_ERR_NO_STORAGE_VOL`
    public static let noStorageVol = Self(rawValue: 50)
    /// `VIR_ERR_INVALID_NODE_DEVICE`
    public static let invalidNodeDevice = Self(rawValue: 52)
    /// `VIR_ERR_NO_NODE_DEVICE`
    public static let noNodeDevice = Self(rawValue: 53)
    /// `VIR_ERR_NO_SECURITY_MODEL`
    public static let noSecurityModel = Self(rawValue: 54)
    /// `VIR_ERR_OPERATION_INVALID`
    public static let operationInvalid = Self(rawValue: 55)
    /// `VIR_ERR_NO_INTERFACE`
    public static let noInterface = Self(rawValue: 57)
    /// `VIR_ERR_INVALID_INTERFACE`
    public static let invalidInterface = Self(rawValue: 58)
    /// `VIR_ERR_MULTIPLE_INTERFACES`
    public static let multipleInterfaces = Self(rawValue: 59)
    /// `VIR_ERR_INVALID_NWFILTER`
    public static let invalidNwfilter = Self(rawValue: 61)
    /// `VIR_ERR_NO_NWFILTER`
    public static let noNwfilter = Self(rawValue: 62)
    /// `VIR_ERR_BUILD_FIREWALL`
    public static let buildFirewall = Self(rawValue: 63)
    /// `VIR_ERR_INVALID_SECRET`
    public static let invalidSecret = Self(rawValue: 65)
    /// `VIR_ERR_NO_SECRET`
    public static let noSecret = Self(rawValue: 66)
    /// `VIR_ERR_CONFIG_UNSUPPORTED`
    public static let configUnsupported = Self(rawValue: 67)
    /// `VIR_ERR_OPERATION_TIMEOUT`
    public static let operationTimeout = Self(rawValue: 68)
    /// `VIR_ERR_MIGRATE_PERSIST_FAILED`
    public static let migratePersistFailed = Self(rawValue: 69)
    /// `VIR_ERR_HOOK_SCRIPT_FAILED`
    public static let hookScriptFailed = Self(rawValue: 70)
    /// `VIR_ERR_INVALID_DOMAIN_SNAPSHOT`
    public static let invalidDomainSnapshot = Self(rawValue: 71)
    /// `VIR_ERR_NO_DOMAIN_SNAPSHOT`
    public static let noDomainSnapshot = Self(rawValue: 72)
    /// `VIR_ERR_INVALID_STREAM`
    public static let invalidStream = Self(rawValue: 73)
    /// `VIR_ERR_ARGUMENT_UNSUPPORTED`
    public static let argumentUnsupported = Self(rawValue: 74)
    /// `VIR_ERR_STORAGE_PROBE_FAILED`
    public static let storageProbeFailed = Self(rawValue: 75)
    /// `VIR_ERR_STORAGE_POOL_BUILT`
    public static let storagePoolBuilt = Self(rawValue: 76)
    /// `VIR_ERR_SNAPSHOT_REVERT_RISKY`
    public static let snapshotRevertRisky = Self(rawValue: 77)
    /// `VIR_ERR_OPERATION_ABORTED`
    public static let operationAborted = Self(rawValue: 78)
    /// `VIR_ERR_AUTH_CANCELLED`
    public static let authCancelled = Self(rawValue: 79)
    /// `VIR_ERR_NO_DOMAIN_METADATA`
    public static let noDomainMetadata = Self(rawValue: 80)
    /// `VIR_ERR_MIGRATE_UNSAFE`
    public static let migrateUnsafe = Self(rawValue: 81)
    /// `VIR_ERR_OVERFLOW`
    public static let overflow = Self(rawValue: 82)
    /// `VIR_ERR_BLOCK_COPY_ACTIVE`
    public static let blockCopyActive = Self(rawValue: 83)
    /// `VIR_ERR_OPERATION_UNSUPPORTED`
    public static let operationUnsupported = Self(rawValue: 84)
    /// `VIR_ERR_SSH`
    public static let ssh = Self(rawValue: 85)
    /// `VIR_ERR_AGENT_UNRESPONSIVE`
    public static let agentUnresponsive = Self(rawValue: 86)
    /// `VIR_ERR_RESOURCE_BUSY`
    public static let resourceBusy = Self(rawValue: 87)
    /// `VIR_ERR_ACCESS_DENIED`
    public static let accessDenied = Self(rawValue: 88)
    /// `VIR_ERR_DBUS_SERVICE`
    public static let dbusService = Self(rawValue: 89)
    /// `VIR_ERR_STORAGE_VOL_EXIST`
    public static let storageVolExist = Self(rawValue: 90)
    /// `VIR_ERR_CPU_INCOMPATIBLE`
    public static let cpuIncompatible = Self(rawValue: 91)
    /// `VIR_ERR_XML_INVALID_SCHEMA`
    public static let xmlInvalidSchema = Self(rawValue: 92)
    /// `VIR_ERR_MIGRATE_FINISH_OK`
    public static let migrateFinishOk = Self(rawValue: 93)
    /// `VIR_ERR_AUTH_UNAVAILABLE`
    public static let authUnavailable = Self(rawValue: 94)
    /// `VIR_ERR_NO_SERVER`
    public static let noServer = Self(rawValue: 95)
    /// `VIR_ERR_NO_CLIENT`
    public static let noClient = Self(rawValue: 96)
    /// `VIR_ERR_AGENT_UNSYNCED`
    public static let agentUnsynced = Self(rawValue: 97)
    /// `VIR_ERR_LIBSSH`
    public static let libssh = Self(rawValue: 98)
    /// `VIR_ERR_DEVICE_MISSING`
    public static let deviceMissing = Self(rawValue: 99)
    /// `VIR_ERR_INVALID_NWFILTER_BINDING`
    public static let invalidNwfilterBinding = Self(rawValue: 100)
    /// `VIR_ERR_NO_NWFILTER_BINDING`
    public static let noNwfilterBinding = Self(rawValue: 101)
    /// `VIR_ERR_INVALID_DOMAIN_CHECKPOINT`
    public static let invalidDomainCheckpoint = Self(rawValue: 102)
    /// `VIR_ERR_NO_DOMAIN_CHECKPOINT`
    public static let noDomainCheckpoint = Self(rawValue: 103)
    /// `VIR_ERR_NO_DOMAIN_BACKUP`
    public static let noDomainBackup = Self(rawValue: 104)
    /// `VIR_ERR_INVALID_NETWORK_PORT`
    public static let invalidNetworkPort = Self(rawValue: 105)
    /// `VIR_ERR_NETWORK_PORT_EXIST`
    public static let networkPortExist = Self(rawValue: 106)
    /// `VIR_ERR_NO_NETWORK_PORT`
    public static let noNetworkPort = Self(rawValue: 107)
    /// `VIR_ERR_NO_HOSTNAME`
    public static let noHostname = Self(rawValue: 108)
    /// `VIR_ERR_CHECKPOINT_INCONSISTENT`
    public static let checkpointInconsistent = Self(rawValue: 109)
    /// `VIR_ERR_MULTIPLE_DOMAINS`
    public static let multipleDomains = Self(rawValue: 110)

    static let libvirtNames: [Int32: String] = [
        1: "VIR_ERR_INTERNAL_ERROR",
        2: "VIR_ERR_NO_MEMORY",
        3: "VIR_ERR_NO_SUPPORT",
        4: "VIR_ERR_UNKNOWN_HOST",
        5: "VIR_ERR_NO_CONNECT",
        6: "VIR_ERR_INVALID_CONN",
        7: "VIR_ERR_INVALID_DOMAIN",
        8: "VIR_ERR_INVALID_ARG",
        9: "VIR_ERR_OPERATION_FAILED",
        10: "VIR_ERR_GET_FAILED",
        11: "VIR_ERR_POST_FAILED",
        12: "VIR_ERR_HTTP_ERROR",
        13: "VIR_ERR_SEXPR_SERIAL",
        14: "VIR_ERR_NO_XEN",
        15: "VIR_ERR_XEN_CALL",
        16: "VIR_ERR_OS_TYPE",
        17: "VIR_ERR_NO_KERNEL",
        18: "VIR_ERR_NO_ROOT",
        19: "VIR_ERR_NO_SOURCE",
        20: "VIR_ERR_NO_TARGET",
        21: "VIR_ERR_NO_NAME",
        22: "VIR_ERR_NO_OS",
        23: "VIR_ERR_NO_DEVICE",
        24: "VIR_ERR_NO_XENSTORE",
        25: "VIR_ERR_DRIVER_FULL",
        26: "VIR_ERR_CALL_FAILED",
        27: "VIR_ERR_XML_ERROR",
        28: "VIR_ERR_DOM_EXIST",
        29: "VIR_ERR_OPERATION_DENIED",
        30: "VIR_ERR_OPEN_FAILED",
        31: "VIR_ERR_READ_FAILED",
        32: "VIR_ERR_PARSE_FAILED",
        33: "VIR_ERR_CONF_SYNTAX",
        34: "VIR_ERR_WRITE_FAILED",
        35: "VIR_ERR_XML_DETAIL",
        36: "VIR_ERR_INVALID_NETWORK",
        37: "VIR_ERR_NETWORK_EXIST",
        38: "VIR_ERR_SYSTEM_ERROR",
        39: "VIR_ERR_RPC",
        40: "VIR_ERR_GNUTLS_ERROR",
        42: "VIR_ERR_NO_DOMAIN",
        43: "VIR_ERR_NO_NETWORK",
        44: "VIR_ERR_INVALID_MAC",
        45: "VIR_ERR_AUTH_FAILED",
        46: "VIR_ERR_INVALID_STORAGE_POOL",
        47: "VIR_ERR_INVALID_STORAGE_VOL",
        49: "VIR_ERR_NO_STORAGE_POOL",
        50: "VIR_ERR_NO_STORAGE_VOL",
        52: "VIR_ERR_INVALID_NODE_DEVICE",
        53: "VIR_ERR_NO_NODE_DEVICE",
        54: "VIR_ERR_NO_SECURITY_MODEL",
        55: "VIR_ERR_OPERATION_INVALID",
        57: "VIR_ERR_NO_INTERFACE",
        58: "VIR_ERR_INVALID_INTERFACE",
        59: "VIR_ERR_MULTIPLE_INTERFACES",
        61: "VIR_ERR_INVALID_NWFILTER",
        62: "VIR_ERR_NO_NWFILTER",
        63: "VIR_ERR_BUILD_FIREWALL",
        65: "VIR_ERR_INVALID_SECRET",
        66: "VIR_ERR_NO_SECRET",
        67: "VIR_ERR_CONFIG_UNSUPPORTED",
        68: "VIR_ERR_OPERATION_TIMEOUT",
        69: "VIR_ERR_MIGRATE_PERSIST_FAILED",
        70: "VIR_ERR_HOOK_SCRIPT_FAILED",
        71: "VIR_ERR_INVALID_DOMAIN_SNAPSHOT",
        72: "VIR_ERR_NO_DOMAIN_SNAPSHOT",
        73: "VIR_ERR_INVALID_STREAM",
        74: "VIR_ERR_ARGUMENT_UNSUPPORTED",
        75: "VIR_ERR_STORAGE_PROBE_FAILED",
        76: "VIR_ERR_STORAGE_POOL_BUILT",
        77: "VIR_ERR_SNAPSHOT_REVERT_RISKY",
        78: "VIR_ERR_OPERATION_ABORTED",
        79: "VIR_ERR_AUTH_CANCELLED",
        80: "VIR_ERR_NO_DOMAIN_METADATA",
        81: "VIR_ERR_MIGRATE_UNSAFE",
        82: "VIR_ERR_OVERFLOW",
        83: "VIR_ERR_BLOCK_COPY_ACTIVE",
        84: "VIR_ERR_OPERATION_UNSUPPORTED",
        85: "VIR_ERR_SSH",
        86: "VIR_ERR_AGENT_UNRESPONSIVE",
        87: "VIR_ERR_RESOURCE_BUSY",
        88: "VIR_ERR_ACCESS_DENIED",
        89: "VIR_ERR_DBUS_SERVICE",
        90: "VIR_ERR_STORAGE_VOL_EXIST",
        91: "VIR_ERR_CPU_INCOMPATIBLE",
        92: "VIR_ERR_XML_INVALID_SCHEMA",
        93: "VIR_ERR_MIGRATE_FINISH_OK",
        94: "VIR_ERR_AUTH_UNAVAILABLE",
        95: "VIR_ERR_NO_SERVER",
        96: "VIR_ERR_NO_CLIENT",
        97: "VIR_ERR_AGENT_UNSYNCED",
        98: "VIR_ERR_LIBSSH",
        99: "VIR_ERR_DEVICE_MISSING",
        100: "VIR_ERR_INVALID_NWFILTER_BINDING",
        101: "VIR_ERR_NO_NWFILTER_BINDING",
        102: "VIR_ERR_INVALID_DOMAIN_CHECKPOINT",
        103: "VIR_ERR_NO_DOMAIN_CHECKPOINT",
        104: "VIR_ERR_NO_DOMAIN_BACKUP",
        105: "VIR_ERR_INVALID_NETWORK_PORT",
        106: "VIR_ERR_NETWORK_PORT_EXIST",
        107: "VIR_ERR_NO_NETWORK_PORT",
        108: "VIR_ERR_NO_HOSTNAME",
        109: "VIR_ERR_CHECKPOINT_INCONSISTENT",
        110: "VIR_ERR_MULTIPLE_DOMAINS",
    ]
}

extension LibvirtError.Origin {
    /// `VIR_FROM_NONE`
    public static let none = Self(rawValue: 0)
    /// `VIR_FROM_XEN`
    public static let xen = Self(rawValue: 1)
    /// `VIR_FROM_XEND`
    public static let xend = Self(rawValue: 2)
    /// `VIR_FROM_XENSTORE`
    public static let xenstore = Self(rawValue: 3)
    /// `VIR_FROM_SEXPR`
    public static let sexpr = Self(rawValue: 4)
    /// `VIR_FROM_XML`
    public static let xml = Self(rawValue: 5)
    /// `VIR_FROM_DOM`
    public static let dom = Self(rawValue: 6)
    /// `VIR_FROM_RPC`
    public static let rpc = Self(rawValue: 7)
    /// `VIR_FROM_PROXY`
    public static let proxy = Self(rawValue: 8)
    /// `VIR_FROM_CONF`
    public static let conf = Self(rawValue: 9)
    /// `VIR_FROM_QEMU`
    public static let qemu = Self(rawValue: 10)
    /// `VIR_FROM_NET`
    public static let net = Self(rawValue: 11)
    /// `VIR_FROM_TEST`
    public static let test = Self(rawValue: 12)
    /// `VIR_FROM_REMOTE`
    public static let remote = Self(rawValue: 13)
    /// `VIR_FROM_OPENVZ`
    public static let openvz = Self(rawValue: 14)
    /// `VIR_FROM_XENXM`
    public static let xenxm = Self(rawValue: 15)
    /// `VIR_FROM_STATS_LINUX`
    public static let statsLinux = Self(rawValue: 16)
    /// `VIR_FROM_LXC`
    public static let lxc = Self(rawValue: 17)
    /// `VIR_FROM_STORAGE`
    public static let storage = Self(rawValue: 18)
    /// `VIR_FROM_NETWORK`
    public static let network = Self(rawValue: 19)
    /// `VIR_FROM_DOMAIN`
    public static let domain = Self(rawValue: 20)
    /// `VIR_FROM_UML`
    public static let uml = Self(rawValue: 21)
    /// `VIR_FROM_NODEDEV`
    public static let nodedev = Self(rawValue: 22)
    /// `VIR_FROM_XEN_INOTIFY`
    public static let xenInotify = Self(rawValue: 23)
    /// `VIR_FROM_SECURITY`
    public static let security = Self(rawValue: 24)
    /// `VIR_FROM_VBOX`
    public static let vbox = Self(rawValue: 25)
    /// `VIR_FROM_INTERFACE`
    public static let interface = Self(rawValue: 26)
    /// `VIR_FROM_ONE`
    public static let one = Self(rawValue: 27)
    /// `VIR_FROM_ESX`
    public static let esx = Self(rawValue: 28)
    /// `VIR_FROM_PHYP`
    public static let phyp = Self(rawValue: 29)
    /// `VIR_FROM_SECRET`
    public static let secret = Self(rawValue: 30)
    /// `VIR_FROM_CPU`
    public static let cpu = Self(rawValue: 31)
    /// `VIR_FROM_XENAPI`
    public static let xenapi = Self(rawValue: 32)
    /// `VIR_FROM_NWFILTER`
    public static let nwfilter = Self(rawValue: 33)
    /// `VIR_FROM_HOOK`
    public static let hook = Self(rawValue: 34)
    /// `VIR_FROM_DOMAIN_SNAPSHOT`
    public static let domainSnapshot = Self(rawValue: 35)
    /// `VIR_FROM_AUDIT`
    public static let audit = Self(rawValue: 36)
    /// `VIR_FROM_SYSINFO`
    public static let sysinfo = Self(rawValue: 37)
    /// `VIR_FROM_STREAMS`
    public static let streams = Self(rawValue: 38)
    /// `VIR_FROM_VMWARE`
    public static let vmware = Self(rawValue: 39)
    /// `VIR_FROM_EVENT`
    public static let event = Self(rawValue: 40)
    /// `VIR_FROM_LIBXL`
    public static let libxl = Self(rawValue: 41)
    /// `VIR_FROM_LOCKING`
    public static let locking = Self(rawValue: 42)
    /// `VIR_FROM_HYPERV`
    public static let hyperv = Self(rawValue: 43)
    /// `VIR_FROM_CAPABILITIES`
    public static let capabilities = Self(rawValue: 44)
    /// `VIR_FROM_URI`
    public static let uri = Self(rawValue: 45)
    /// `VIR_FROM_AUTH`
    public static let auth = Self(rawValue: 46)
    /// `VIR_FROM_DBUS`
    public static let dbus = Self(rawValue: 47)
    /// `VIR_FROM_PARALLELS`
    public static let parallels = Self(rawValue: 48)
    /// `VIR_FROM_DEVICE`
    public static let device = Self(rawValue: 49)
    /// `VIR_FROM_SSH`
    public static let ssh = Self(rawValue: 50)
    /// `VIR_FROM_LOCKSPACE`
    public static let lockspace = Self(rawValue: 51)
    /// `VIR_FROM_INITCTL`
    public static let initctl = Self(rawValue: 52)
    /// `VIR_FROM_IDENTITY`
    public static let identity = Self(rawValue: 53)
    /// `VIR_FROM_CGROUP`
    public static let cgroup = Self(rawValue: 54)
    /// `VIR_FROM_ACCESS`
    public static let access = Self(rawValue: 55)
    /// `VIR_FROM_SYSTEMD`
    public static let systemd = Self(rawValue: 56)
    /// `VIR_FROM_BHYVE`
    public static let bhyve = Self(rawValue: 57)
    /// `VIR_FROM_CRYPTO`
    public static let crypto = Self(rawValue: 58)
    /// `VIR_FROM_FIREWALL`
    public static let firewall = Self(rawValue: 59)
    /// `VIR_FROM_POLKIT`
    public static let polkit = Self(rawValue: 60)
    /// `VIR_FROM_THREAD`
    public static let thread = Self(rawValue: 61)
    /// `VIR_FROM_ADMIN`
    public static let admin = Self(rawValue: 62)
    /// `VIR_FROM_LOGGING`
    public static let logging = Self(rawValue: 63)
    /// `VIR_FROM_XENXL`
    public static let xenxl = Self(rawValue: 64)
    /// `VIR_FROM_PERF`
    public static let perf = Self(rawValue: 65)
    /// `VIR_FROM_LIBSSH`
    public static let libssh = Self(rawValue: 66)
    /// `VIR_FROM_RESCTRL`
    public static let resctrl = Self(rawValue: 67)
    /// `VIR_FROM_FIREWALLD`
    public static let firewalld = Self(rawValue: 68)
    /// `VIR_FROM_DOMAIN_CHECKPOINT`
    public static let domainCheckpoint = Self(rawValue: 69)
    /// `VIR_FROM_TPM`
    public static let tpm = Self(rawValue: 70)
    /// `VIR_FROM_BPF`
    public static let bpf = Self(rawValue: 71)
    /// `VIR_FROM_CH`
    public static let ch = Self(rawValue: 72)

    static let libvirtNames: [Int32: String] = [
        0: "none",
        1: "xen",
        2: "xend",
        3: "xenstore",
        4: "sexpr",
        5: "xml",
        6: "dom",
        7: "rpc",
        8: "proxy",
        9: "conf",
        10: "qemu",
        11: "net",
        12: "test",
        13: "remote",
        14: "openvz",
        15: "xenxm",
        16: "stats_linux",
        17: "lxc",
        18: "storage",
        19: "network",
        20: "domain",
        21: "uml",
        22: "nodedev",
        23: "xen_inotify",
        24: "security",
        25: "vbox",
        26: "interface",
        27: "one",
        28: "esx",
        29: "phyp",
        30: "secret",
        31: "cpu",
        32: "xenapi",
        33: "nwfilter",
        34: "hook",
        35: "domain_snapshot",
        36: "audit",
        37: "sysinfo",
        38: "streams",
        39: "vmware",
        40: "event",
        41: "libxl",
        42: "locking",
        43: "hyperv",
        44: "capabilities",
        45: "uri",
        46: "auth",
        47: "dbus",
        48: "parallels",
        49: "device",
        50: "ssh",
        51: "lockspace",
        52: "initctl",
        53: "identity",
        54: "cgroup",
        55: "access",
        56: "systemd",
        57: "bhyve",
        58: "crypto",
        59: "firewall",
        60: "polkit",
        61: "thread",
        62: "admin",
        63: "logging",
        64: "xenxl",
        65: "perf",
        66: "libssh",
        67: "resctrl",
        68: "firewalld",
        69: "domain_checkpoint",
        70: "tpm",
        71: "bpf",
        72: "ch",
    ]
}
