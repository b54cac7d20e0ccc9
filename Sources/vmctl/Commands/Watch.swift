import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import VMManager
import VMManagerDelivery

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Notify what happens to guests outside the cluster's actions (crash, shutdown inside, I/O error).",
        discussion: """
            Subscribes to libvirt's life-cycle events and records a transition when a guest crashed, shut itself down, \
            was paused by an I/O error or its watchdog, or was started, stopped, paused or resumed by hand. Events the \
            resource agent causes are left to the agent, which reports them itself. The spool is retried every \
            --flush-interval seconds. It also answers the resource agent's monitors on <lock_dir>/monitor.sock \
            (lock_dir of the configuration's [global]), so that a monitor does not load libvirt into a new process; \
            without it the agent runs them itself. Runs until SIGTERM or SIGINT \
            (Resources/systemd/vmmanager-watch.service runs it). A container (libvirt LXC, watched with \
            --also-connect lxc:///system) that stops outside any cluster action counts as failed, as a crashed VM \
            does: libvirt cannot tell its killed init from one that exited.

            Examples:
              vmctl watch
              vmctl watch --connect qemu:///system --guest web1 --guest db1 -v
              vmctl watch --connect qemu:///system --also-connect lxc:///system
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: ArgumentHelp("vmmanager configuration file.", valueName: "path"))
    var config: String = NotifySettings.defaultConfigPath
    @Option(name: .customLong("guest"), help: ArgumentHelp("Watch only this guest (repeatable).", valueName: "name"))
    var guests: [String] = []
    @Option(
        help: ArgumentHelp(
            "Seconds an event that a cluster action may have caused waits before it is judged.",
            valueName: "seconds"))
    var settle: Double = 3
    @Option(help: ArgumentHelp("Seconds between retries of the spool.", valueName: "seconds"))
    var flushInterval: Double = 60
    @Option(
        name: .customLong("also-connect"),
        help: ArgumentHelp(
            "Watch this local hypervisor too (repeatable), e.g. lxc:///system for containers beside --connect's VMs.",
            valueName: "uri"))
    var alsoConnect: [String] = []

    func run() async throws {
        var logger = Logger(label: "vmctl.watch") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = connection.verbose ? .debug : .notice
        let watcher = LifecycleWatcher(
            options: .init(
                uri: connection.uri, configPath: config, guests: Set(guests), settle: seconds(settle),
                flushInterval: seconds(flushInterval), alsoURIs: alsoConnect),
            logger: logger)
        // A parent may have started us with the signals blocked (Foundation's Process inherits the spawning
        // thread's mask); SIGTERM must reach us.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        // The monitor server, the flusher and the watcher; SIGTERM or SIGINT shuts them down gracefully, in the
        // reverse order: the monitor server answers until the end.
        let monitors = MonitorServer(configPath: config, logger: logger)
        let group = ServiceGroup(
            services: [monitors] + watcher.services, gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
    }
}
