// swift-tools-version: 6.0
//
// vmmanager — high availability for libvirt virtual machines.
//
// Module graph (arrows point at what a module depends on):
//
//   vmctl ─► VMManagerDelivery ─► CCurl  (libcurl: the notifier's SMTP and webhooks)
//     │            │         ├──► Crypto  (swift-crypto: HMAC-SHA256 of webhook bodies)
//     │            │         └──► ServiceLifecycle  (`vmctl watch`'s services; vmctl imports it too)
//     │            ▼
//     └──────► VMManager ─► Libvirt ─► CLibvirt  (libvirt C API, the only C boundary for libvirt)
//   vmmanager-agent ┘                 └──► CLibXML2  (domain XML parsing)
//
// `Libvirt` is a general binding that knows nothing about high availability; `VMManager`
// holds the HA behaviour the executables share, including recording notifications to the spool.
// `VMManagerDelivery` delivers them (flush, mail, webhooks, `vmctl watch`); only vmctl links it, so
// the agent, which Pacemaker runs afresh at every monitor, does not load libcurl or OpenSSL, and links
// neither swift-crypto nor swift-service-lifecycle.
import PackageDescription

let package = Package(
    name: "vmmanager",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Libvirt", targets: ["Libvirt"]),
        .library(name: "VMManager", targets: ["VMManager"]),
        .library(name: "VMManagerDelivery", targets: ["VMManagerDelivery"]),
        .executable(name: "vmctl", targets: ["vmctl"]),
        // The agent as installed: a front without libvirt that asks `vmctl watch` for monitors and runs the
        // full agent for everything else. The full agent goes to <prefix>/lib/vmmanager/vmmanager-agent.
        .executable(name: "vmmanager", targets: ["vmmanager-front"]),
        .executable(name: "vmmanager-agent", targets: ["vmmanager-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // 1.11: `LogEvent` and `LogHandler.log(event:)`.
        .package(url: "https://github.com/apple/swift-log", from: "1.11.0"),
        // HMAC-SHA256 of webhook bodies (VMManagerDelivery only).
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        // `vmctl watch`'s services and their graceful shutdown on SIGTERM (VMManagerDelivery and vmctl only).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // libcurl for the notifier's SMTP and webhook delivery; typed wrappers of curl_easy_setopt in shim.h.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // The agent front's protocol with `vmctl watch`'s monitor server and the deadline it hands the full agent:
        // plain Swift and Glibc, no dependencies.
        .target(name: "AgentWire"),
        .target(
            name: "Libvirt",
            dependencies: [
                "CLibvirt",
                "CLibXML2",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "VMManager",
            dependencies: [
                "Libvirt",
                "AgentWire",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Delivery of the spooled notifications: libcurl SMTP and HTTP, MIME, signed webhooks, the flush,
        // `vmctl watch`. Linked by vmctl only, never by the agent.
        .target(
            name: "VMManagerDelivery",
            dependencies: [
                "VMManager",
                "Libvirt",
                "AgentWire",
                "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "vmctl",
            dependencies: [
                "VMManager",
                "VMManagerDelivery",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The resource agent's front (the `vmmanager` product): AgentWire and Glibc only, no libvirt, libxml2,
        // curl or Foundation. Monitors go to `vmctl watch`'s monitor server; the rest execs the full agent.
        .executableTarget(name: "vmmanager-front", dependencies: ["AgentWire"]),
        // The full resource agent: heartbeat v1 (`vmmanager::guest`) and OCF 1.1 (`ocf:vmmanager:guest`).
        // No ArgumentParser and no Foundation: it runs whenever `vmctl watch` does not answer a monitor.
        .executableTarget(
            name: "vmmanager-agent",
            dependencies: [
                "VMManager",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt"]),
        .testTarget(name: "VMManagerTests", dependencies: ["VMManager", "Libvirt", "IntegrationSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["VMManager", "Libvirt", "IntegrationSupport"]),
        // The notifier against a real SMTP server (python3-aiosmtpd) and a real HTTP receiver on loopback.
        .testTarget(
            name: "NotifierTests", dependencies: ["VMManager", "VMManagerDelivery", "Libvirt", "IntegrationSupport"]),
        .testTarget(name: "AgentTests", dependencies: ["VMManager", "Libvirt", "IntegrationSupport"]),
        // vmctl's commands, run as a user runs them: the built binary, against test:/// and the testbed.
        .testTarget(
            name: "VMCtlTests",
            dependencies: ["VMManager", "VMManagerDelivery", "Libvirt", "AgentWire", "IntegrationSupport"]),
        // Helpers shared by the test targets: running programs and the package's built products, the real testbed.
        .target(name: "IntegrationSupport", dependencies: ["VMManager", "Libvirt"], path: "Tests/IntegrationSupport"),
        // Fuzz targets, built as libFuzzer fuzzers only by `make fuzz` (scripts/fuzz.sh passes -D FUZZING and
        // -sanitize=fuzzer,address); a plain build makes them replayers of the input files given as arguments.
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(
            name: "FuzzConfigFile", dependencies: ["VMManager", "FuzzSupport"], path: "Fuzz/FuzzConfigFile"),
        .executableTarget(name: "FuzzSettings", dependencies: ["VMManager", "FuzzSupport"], path: "Fuzz/FuzzSettings"),
        .executableTarget(
            name: "FuzzHeartbeat", dependencies: ["VMManager", "FuzzSupport"], path: "Fuzz/FuzzHeartbeat"),
        .executableTarget(
            name: "FuzzDomainXML", dependencies: ["Libvirt", "VMManager", "FuzzSupport"], path: "Fuzz/FuzzDomainXML"),
        .executableTarget(
            name: "FuzzSpool", dependencies: ["VMManager", "VMManagerDelivery", "FuzzSupport"], path: "Fuzz/FuzzSpool"),
    ]
)
