/// The devices of a definition that high availability reads: NICs, disks, serial consoles and channels.
extension DomainDefinition {
    /// An `<interface>`: a guest NIC.
    public struct Interface: Sendable, Hashable {
        /// `type`: `network`, `bridge`, `direct`, ...; `user` when absent, as libvirt defaults.
        public var type: String
        /// `<mac address=...>`, or `nil` when libvirt would generate a random one each time the domain is defined.
        public var mac: MACAddress?
        /// `<model type=...>`, such as `virtio`.
        public var model: String?
        /// `<source network=...>` of a `network` interface.
        public var sourceNetwork: String?
        /// `<source bridge=...>` of a `bridge` interface.
        public var sourceBridge: String?
        /// `<source dev=...>` of a `direct` (macvtap) interface.
        public var sourceDevice: String?

        public init(
            type: String,
            mac: MACAddress? = nil,
            model: String? = nil,
            sourceNetwork: String? = nil,
            sourceBridge: String? = nil,
            sourceDevice: String? = nil
        ) {
            self.type = type
            self.mac = mac
            self.model = model
            self.sourceNetwork = sourceNetwork
            self.sourceBridge = sourceBridge
            self.sourceDevice = sourceDevice
        }

        init(_ element: XMLTree.Element, index: Int) throws(DomainDefinitionError) {
            let source = element.firstChild(named: "source")
            self.type = element.attribute("type") ?? "user"
            self.model = element.firstChild(named: "model")?.attribute("type")
            self.sourceNetwork = source?.attribute("network")
            self.sourceBridge = source?.attribute("bridge")
            self.sourceDevice = source?.attribute("dev")
            if let address = element.firstChild(named: "mac")?.attribute("address") {
                // libvirt's virMacAddrParse allows trailing whitespace.
                guard let mac = MACAddress(address.trimmingWhitespace()) else {
                    throw DomainDefinitionError(
                        .invalidValue,
                        "domain XML has an invalid MAC address '\(address)' on the interface at index \(index); "
                            + "expected six hexadecimal bytes such as 52:54:00:12:34:56"
                    )
                }
                self.mac = mac
            } else {
                self.mac = nil
            }
        }
    }

    /// A `<disk>`.
    public struct Disk: Sendable, Hashable {
        /// `device`: `disk`, `cdrom`, `floppy` or `lun`; `disk` when absent, as libvirt defaults.
        public var device: String
        /// `type`: `file`, `block`, `network`, `volume`, ...; `file` when absent, as libvirt defaults.
        public var type: String
        /// Where the data lives: `<source file=...>`, `dev=`, `dir=` or `name=` (network disks), or `pool/volume` for
        /// volume disks; `nil` for an empty cdrom drive.
        public var source: String?
        /// `<driver type=...>`: the image format, such as `qcow2` or `raw`.
        public var driverType: String?
        /// `<target dev=...>`, the name the guest is told, such as `vda`.
        public var targetDevice: String?
        /// `<target bus=...>`: `virtio`, `sata`, `scsi`, ...
        public var bus: String?
        /// Whether `<readonly/>` is present.
        public var readOnly: Bool
        /// Whether `<shareable/>` is present: the image may be attached to several guests at once, so locking that
        /// guards against running one guest twice must not treat it as exclusive.
        public var shareable: Bool

        public init(
            device: String = "disk",
            type: String = "file",
            source: String? = nil,
            driverType: String? = nil,
            targetDevice: String? = nil,
            bus: String? = nil,
            readOnly: Bool = false,
            shareable: Bool = false
        ) {
            self.device = device
            self.type = type
            self.source = source
            self.driverType = driverType
            self.targetDevice = targetDevice
            self.bus = bus
            self.readOnly = readOnly
            self.shareable = shareable
        }

        init(_ element: XMLTree.Element) {
            let source = element.firstChild(named: "source")
            let target = element.firstChild(named: "target")
            self.device = element.attribute("device") ?? "disk"
            self.type = element.attribute("type") ?? "file"
            if let source {
                if let path = source.attribute("file") ?? source.attribute("dev") ?? source.attribute("dir")
                    ?? source.attribute("name")
                {
                    self.source = path
                } else if let pool = source.attribute("pool"), let volume = source.attribute("volume") {
                    self.source = "\(pool)/\(volume)"
                } else {
                    self.source = nil
                }
            } else {
                self.source = nil
            }
            self.driverType = element.firstChild(named: "driver")?.attribute("type")
            self.targetDevice = target?.attribute("dev")
            self.bus = target?.attribute("bus")
            self.readOnly = element.firstChild(named: "readonly") != nil
            self.shareable = element.firstChild(named: "shareable") != nil
        }
    }

    /// A `<serial>` or `<console>`.
    public struct CharacterDevice: Sendable, Hashable {
        /// `type`: `pty`, `file`, `unix`, `tcp`, ...; `pty` when absent, as libvirt defaults.
        public var type: String
        /// `<source path=...>`: the file or socket; for a running `pty` device, the `/dev/pts` node.
        public var sourcePath: String?
        /// `<log file=...>`: where libvirt copies the device's output.
        public var logFile: String?
        /// `<target type=...>`: `isa-serial`, `serial`, `virtio`, ...
        public var targetType: String?
        /// `<target port=...>`.
        public var targetPort: Int?

        public init(
            type: String = "pty",
            sourcePath: String? = nil,
            logFile: String? = nil,
            targetType: String? = nil,
            targetPort: Int? = nil
        ) {
            self.type = type
            self.sourcePath = sourcePath
            self.logFile = logFile
            self.targetType = targetType
            self.targetPort = targetPort
        }

        init(_ element: XMLTree.Element) {
            let target = element.firstChild(named: "target")
            self.type = element.attribute("type") ?? "pty"
            self.sourcePath = element.firstChild(named: "source")?.attribute("path")
            self.logFile = element.firstChild(named: "log")?.attribute("file")
            self.targetType = target?.attribute("type")
            self.targetPort = target?.attribute("port").flatMap { Int($0.trimmingWhitespace()) }
        }
    }

    /// A `<channel>`: a named host–guest stream such as the QEMU guest agent's.
    public struct Channel: Sendable, Hashable {
        /// The `<target name=...>` of the QEMU guest agent's virtio channel.
        public static let guestAgentName = "org.qemu.guest_agent.0"

        /// `type`: `unix`, `pty`, `spicevmc`, ...; `pty` when absent, as libvirt defaults.
        public var type: String
        /// `<target type=...>`: `virtio`, `guestfwd`, `xen`.
        public var targetType: String?
        /// `<target name=...>`, such as ``guestAgentName``.
        public var targetName: String?
        /// `<source path=...>`: the host side's socket or file.
        public var sourcePath: String?

        public init(
            type: String = "pty",
            targetType: String? = nil,
            targetName: String? = nil,
            sourcePath: String? = nil
        ) {
            self.type = type
            self.targetType = targetType
            self.targetName = targetName
            self.sourcePath = sourcePath
        }

        init(_ element: XMLTree.Element) {
            let target = element.firstChild(named: "target")
            self.type = element.attribute("type") ?? "pty"
            self.targetType = target?.attribute("type")
            self.targetName = target?.attribute("name")
            self.sourcePath = element.firstChild(named: "source")?.attribute("path")
        }
    }
}
