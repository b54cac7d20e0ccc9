/// Every setting of the resource agent, in one table.
///
/// The same table produces the OCF meta-data, validates `vmmanager.conf`, maps `OCF_RESKEY_*` and
/// heartbeat's `key=value` arguments, and is what docs/agent.md documents — nothing is kept in two
/// places. Names that ClusterLabs' VirtualDomain also has keep VirtualDomain's meaning, so that an
/// existing Pacemaker resource can switch its type to `ocf:vmmanager:guest` and nothing else.
public struct Parameter: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case string, boolean, integer
    }

    public let name: String
    public let kind: Kind
    /// The default as text ("" = none).
    public let defaultValue: String
    public let shortDescription: String
    public let longDescription: String
    /// True when VirtualDomain has a parameter of this name and meaning.
    public let fromVirtualDomain: Bool
    /// Whether a change needs no restart of the guest (OCF `reloadable`).
    public let reloadable: Bool
    /// OCF `unique-group`: no two resources may share the value.
    public let uniqueGroup: String?

    init(
        _ name: String, _ kind: Kind = .string, default defaultValue: String = "", virtualDomain: Bool = false,
        unique: String? = nil, reloadable: Bool = true, _ short: String, _ long: String
    ) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.shortDescription = short
        self.longDescription = long
        self.fromVirtualDomain = virtualDomain
        self.reloadable = reloadable
        self.uniqueGroup = unique
    }
}

public enum Parameters {
    public static let all: [Parameter] = [
        Parameter(
            "domain", unique: "domain", reloadable: false,
            "Guest (libvirt domain) name",
            "Name of the libvirt domain to manage. Needed when 'config' is not given; when both are given, "
                + "the name in the XML must match."),
        Parameter(
            "config", virtualDomain: true, unique: "config", reloadable: false,
            "Domain XML file",
            "Path of the guest's domain XML, absolute or relative to vm_dir. vmmanager defines the guest "
                + "from it (persistently, with a pinned UUID and MACs) when it is not defined, and redefines "
                + "a stopped guest when the file changed. It never undefines anything."),
        Parameter(
            "vm_dir", default: "/etc/vmmanager/guests",
            "Directory of guest XML files",
            "Directory that relative 'config' paths (and heartbeat's guest arguments such as web1/web1.xml) "
                + "are resolved against."),
        Parameter(
            "hypervisor", default: "qemu:///system", virtualDomain: true,
            "libvirt URI of this node",
            "libvirt connection URI of the local hypervisor."),
        Parameter(
            "conf_file", default: "/etc/vmmanager/vmmanager.conf",
            "vmmanager configuration file",
            "Settings file with [global], [notify] and [guest NAME] sections. Parameters given to the agent "
                + "override it. A missing file is fine unless this parameter names it explicitly."),
        Parameter(
            "stop_methods", default: "save,shutdown,destroy",
            "Stop chain",
            "Comma-separated methods tried in order on stop, within the stop timeout: save (managed save: "
                + "memory to disk, the next start resumes the guest and its users' sessions), shutdown "
                + "(graceful), destroy. destroy is the last resort and also kills the QEMU process (a "
                + "container's controller and init) directly when libvirtd does not answer. A container (libvirt "
                + "LXC) has no managed save: its default chain is shutdown,destroy, and save in its chain is a "
                + "configuration error."),
        Parameter(
            "force_stop", .boolean, default: "false", virtualDomain: true,
            "Always destroy on stop",
            "Same as stop_methods=destroy (VirtualDomain's force_stop)."),
        Parameter(
            "saved_state", default: "auto",
            "Where saved state lives",
            "Where the stop chain's 'save' writes the guest's memory and where start looks for it. 'auto': "
                + "beside the domain XML ('config'), as <name>.state with its provenance record and the "
                + "guest's generation; on storage that moves with the guest (the thesis's DRBD volume) the "
                + "node that takes the guest over resumes it. An absolute directory: there (shared storage). "
                + "'managed': libvirt's node-local managed-save image, for a single node. 'auto' without a "
                + "'config' is 'managed'. An image is restored only when it is the guest's latest state; any "
                + "other is moved to quarantine_dir and the guest cold-boots."),
        Parameter(
            "snapshot", virtualDomain: true,
            "Directory for saved state (VirtualDomain)",
            "VirtualDomain's name for saved_state=<directory>: save to <snapshot>/<name>.state on stop and "
                + "restore from there on start."),
        Parameter(
            "save_config_on_stop", .boolean, default: "false", virtualDomain: true,
            "Save the live definition on stop",
            "Before stopping, write the guest's current inactive definition back to 'config' (if it "
                + "changed and still parses), so runtime changes are kept."),
        Parameter(
            "sync_config_on_stop", .boolean, default: "false", virtualDomain: true,
            "Sync the XML to the other nodes with csync2",
            "As VirtualDomain: implies save_config_on_stop, and after the XML was written back runs "
                + "`csync2 -x <config>`. Needs csync2 (validate-all exits 5 without it)."),
        Parameter(
            "start_resources", .boolean, default: "false", virtualDomain: true,
            "Start the guest's networks and pools",
            "Before starting the guest, start the libvirt networks (<interface type='network'>) and storage "
                + "pools (<disk type='volume'>) its XML uses when they are defined but inactive."),
        Parameter(
            "autoset_utilization_cpu", .boolean, default: "true", virtualDomain: true,
            "Put the guest's vCPUs into the resource's cpu utilization",
            "Under Pacemaker, the guest's vCPU count is set as the resource's cpu utilization attribute "
                + "(crm_resource --utilization), only when it differs from what this node last set."),
        Parameter(
            "autoset_utilization_host_memory", .boolean, default: "true", virtualDomain: true,
            "Put the guest's memory into host_memory utilization",
            "Under Pacemaker, the guest's maximum memory in MiB is set as the resource's host_memory "
                + "utilization attribute, only when it changes."),
        Parameter(
            "autoset_utilization_hv_memory", .boolean, default: "true", virtualDomain: true,
            "Put the guest's memory into hv_memory utilization",
            "Under Pacemaker, the guest's maximum memory in MiB is set as the resource's hv_memory "
                + "utilization attribute, only when it changes."),
        Parameter(
            "unset_utilization_cpu", .boolean, default: "false", virtualDomain: true,
            "Remove the cpu utilization",
            "With autoset_utilization_cpu=false: delete the resource's cpu utilization attribute."),
        Parameter(
            "unset_utilization_host_memory", .boolean, default: "false", virtualDomain: true,
            "Remove the host_memory utilization",
            "With autoset_utilization_host_memory=false: delete the resource's host_memory utilization attribute."),
        Parameter(
            "unset_utilization_hv_memory", .boolean, default: "false", virtualDomain: true,
            "Remove the hv_memory utilization",
            "With autoset_utilization_hv_memory=false: delete the resource's hv_memory utilization attribute."),
        Parameter(
            "shutdown_mode", virtualDomain: true,
            "Graceful shutdown modes",
            "Comma-separated libvirt shutdown modes for the shutdown step: acpi, agent, initctl, signal, "
                + "paravirt. Empty lets libvirt choose."),
        Parameter(
            "readiness", default: "auto",
            "When a started guest counts as up",
            "Start returns only when this holds: 'guest-agent' (the QEMU guest agent answers), "
                + "'serial:REGEX' (a line of the serial console log matches), 'tcp:HOST:PORT' (a TCP port "
                + "accepts connections), 'uptime:N/M' (the thesis's timer: N s after a cold boot, M s after a "
                + "resume), 'exec:COMMAND' (containers: the command, run by /bin/sh inside the container, exits "
                + "0), 'none', or 'auto' (guest-agent when the XML has the agent channel, else none)."),
        Parameter(
            "start_timeout", .integer, default: "120",
            "Start budget in seconds (heartbeat)",
            "Time start (including the readiness wait) may take under heartbeat, which has no operation "
                + "timeouts. Under Pacemaker the operation's timeout is used."),
        Parameter(
            "stop_timeout", .integer, default: "90",
            "Stop budget in seconds (heartbeat)",
            "Time the stop chain may take under heartbeat. Under Pacemaker the operation's timeout is used "
                + "(minus 5 s)."),
        Parameter(
            "peers", .string,
            "libvirt URIs of the other nodes (start guard)",
            "Comma-separated libvirt URIs of the cluster's nodes. Start refuses when the guest's UUID is running "
                + "on one of them; an unreachable peer does not block start (it may be the node that failed). "
                + "A URI that reaches this node itself is skipped, so every node can share one list."),
        Parameter(
            "migration_transport", virtualDomain: true,
            "Transport to the migration target",
            "Transport of the generated remote URI: qemu+<transport>://<target>/system (e.g. ssh, tls, tcp)."),
        Parameter(
            "migration_user", default: "", virtualDomain: true,
            "User on the migration target",
            "User in the generated remote URI."),
        Parameter(
            "migration_network_suffix", virtualDomain: true,
            "Suffix of the migration network's host names",
            "Appended to the target's node name to form the host of the remote and migrate URIs, to send "
                + "migration traffic over a dedicated network."),
        Parameter(
            "migrateuri", virtualDomain: true,
            "Where QEMU sends memory",
            "Migration data URI; %n is replaced by the target node name (e.g. tcp:%n-mig)."),
        Parameter(
            "monitor_scripts", virtualDomain: true,
            "The admin's health checks",
            "Scripts (separated by spaces) run one after another at every monitor once libvirt says the "
                + "guest runs, each within its share of the monitor's timeout; the first that exits non-zero "
                + "(or is killed at its deadline) fails the monitor with its output as the exit reason. "
                + "readiness=monitor-scripts makes start wait until they all succeed."),
        Parameter(
            "migrateport", .integer, virtualDomain: true,
            "Port for the migrate URI",
            "Port QEMU on the target listens on, added to a tcp: migrate URI that names none (with "
                + "migration_network_suffix: tcp:<target><suffix>:<port>). Unset: libvirt picks one of "
                + "49152-49215."),
        Parameter(
            "migrate_options", virtualDomain: true,
            "virsh migrate options",
            "The virsh migrate options VirtualDomain users set, applied through libvirt's API: --p2p, "
                + "--tunnelled, --compressed, --auto-converge, --postcopy, --unsafe, --tls, --parallel, "
                + "--parallel-connections N, --copy-storage-all, --copy-storage-inc, --migrateuri URI (%n = "
                + "target), --listen-address A, --bandwidth MiB/s, --timeout s (pause the guest after s "
                + "seconds so the copy converges), --change-protection; --live, --persistent, "
                + "--abort-on-error and --verbose are always on. Any other option is a configuration "
                + "error that names it."),
        Parameter(
            "remoteuri", virtualDomain: true,
            "libvirt URI of the migration target",
            "Overrides the generated remote URI; %n is replaced by the target node name."),
        Parameter(
            "migration_downtime", .integer, default: "0", virtualDomain: true,
            "Max downtime in ms",
            "Longest pause the guest may see at switch-over (0 = libvirt's default)."),
        Parameter(
            "migration_speed", .integer, default: "0", virtualDomain: true,
            "Bandwidth cap in MiB/s",
            "Migration bandwidth limit (0 = unlimited)."),
        Parameter(
            "managed_save_dir", default: "/var/lib/libvirt/qemu/save",
            "libvirt's managed-save directory",
            "Where libvirt keeps managed-save images (qemu.conf save_image_dir); needed to keep a failed "
                + "or stale image aside."),
        Parameter(
            "quarantine_dir", default: "/var/lib/vmmanager/quarantine",
            "Where failed save images are kept",
            "A saved image that cannot be restored, or that is not the guest's latest state, is moved "
                + "here with its provenance record (never deleted) before the guest is cold-booted."),
        Parameter(
            "state_dir", default: "/var/lib/vmmanager",
            "vmmanager's own state",
            "Remembers which domain each resource manages, so stop and monitor stay exact even when the "
                + "XML file becomes unreachable."),
        Parameter(
            "lock_dir", default: "/run/vmmanager",
            "Per-guest locks",
            "Lock files that serialise the agent and vmctl acting on one guest, and the node's admission slots."),
        Parameter(
            "boot_slots", default: "auto",
            "Cold boots at once on this node",
            "Node-wide: at most this many guests cold-boot at once, each holding its slot until it is ready; "
                + "the others wait, within their start timeout, highest 'priority' first. 'auto': one per "
                + "online CPU, at most one per GiB of available memory. Set it in [global] so that every "
                + "guest of the node counts against the same limit."),
        Parameter(
            "restore_slots", default: "auto",
            "Restores at once on this node",
            "Node-wide: at most this many guests are restored from saved state at once (each until it is "
                + "ready again). 'auto': 2 (one image streams while the other guest wakes), at most one per "
                + "CPU and per GiB of available memory."),
        Parameter(
            "save_slots", default: "auto",
            "Saves at once on this node",
            "Node-wide: at most this many guests write their memory to disk at once on stop (the others "
                + "wait within their stop timeout). 'auto': as restore_slots."),
        Parameter(
            "failure_response", default: "none",
            "What vmctl watch does when the guest fails",
            "When the guest crashes or its QEMU dies outside any cluster action, the node's `vmctl watch`: "
                + "'none' (notifies; the cluster's next monitor finds it), 'pacemaker' (tells Pacemaker at once "
                + "with crm_resource --fail, so recovery starts within a second instead of at the next "
                + "monitor), or 'restart' (heartbeat v1, which monitors nothing: starts the guest again here "
                + "up to local_restarts times within restart_window, then hands its group to the peer)."),
        Parameter(
            "local_restarts", .integer, default: "2",
            "Local restarts before a hand-over",
            "With failure_response=restart: how many times within restart_window the guest is started "
                + "again on this node before its group is handed to the peer. 0: hand over at once."),
        Parameter(
            "restart_window", .integer, default: "600",
            "Seconds over which restarts are counted",
            "With failure_response=restart: restarts older than this many seconds are forgotten."),
        Parameter(
            "handover_command", default: "",
            "How the group is handed to the peer",
            "With failure_response=restart: the command that gives the failed guest's resource group to "
                + "the peer. Empty: heartbeat's `hb_standby local` when this node is the group's preferred "
                + "node in haresources, else `hb_standby foreign`."),
        Parameter(
            "priority", .integer, default: "",
            "Who gets a slot first",
            "Among guests waiting for a boot, restore or save slot, higher goes first (then first come). "
                + "Default: the resource's Pacemaker 'priority' meta attribute, else 0."),
    ]

    /// VirtualDomain parameters that vmmanager does not implement. They are in the meta-data (so that a
    /// resource switching its type still passes pcs's and crm's checks), and left unset they are fine; set,
    /// validate-all and every start refuse them with the reason (OCF_ERR_CONFIGURED): never ignored.
    public static let refusedFromVirtualDomain: [(name: String, reason: String)] = [
        ("backingfile", stateless),
        ("stateless", stateless),
        ("copyindirs", stateless),
    ]
    static let stateless =
        "VirtualDomain's stateless guests (a fresh overlay over a backing file at every start, "
        + "copyindirs copied in) are not supported: a guest whose state is thrown away at each start cannot be "
        + "saved by a stop and resumed by the next start, which is what vmmanager does; keep such guests on "
        + "VirtualDomain or give them a disk of their own"

    public static func named(_ name: String) -> Parameter? { all.first { $0.name == name } }
    public static let names: Set<String> = Set(all.map(\.name))
    public static let refusedNames: Set<String> = Set(refusedFromVirtualDomain.map(\.name))
}
