import FoundationEssentials
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Node-wide admission control: at most N guests of this node boot (or restore, or save) at once.
///
/// A failover starts every guest of the dead node at once on the survivor; boots then fight for CPU
/// and disk until boot-waits time out and the cluster starts recovering guests that were merely slow.
/// The thesis serialised them with a 60 s timer per guest; Pacemaker's `batch-limit` is cluster-wide and
/// counts every action. Each agent is its own process, so the limit is a counting semaphore of files:
/// `<lock_dir>/slots/<kind>/<i>.slot`, each a ``FileLock``. The kernel frees a slot when its holder dies.
///
/// Who goes next is decided by a queue of tickets, `<lock_dir>/slots/<kind>/queue/`, one locked file per
/// waiter, named after its priority and arrival: a waiter takes a free slot only when fewer waiters rank
/// before it than there are free slots. A ticket whose lock is free belongs to a dead waiter and is removed.
public struct Admission: Sendable {
    /// What a slot admits.
    public enum Kind: String, Sendable, CaseIterable, CustomStringConvertible {
        /// A cold boot, held from the start until the guest is ready: CPU-bound.
        case boot
        /// A restore of a saved image, held until the guest is ready again: disk-bound.
        case restore
        /// A save of a guest's memory on stop: disk-bound.
        case save

        public var description: String { rawValue }
    }

    /// How many of each kind may run at once on this node.
    public struct Limits: Sendable, Hashable {
        public var boot: Int
        public var restore: Int
        public var save: Int

        public init(boot: Int, restore: Int, save: Int) {
            self.boot = boot
            self.restore = restore
            self.save = save
        }

        public subscript(kind: Kind) -> Int {
            get {
                switch kind {
                case .boot: boot
                case .restore: restore
                case .save: save
                }
            }
            set {
                switch kind {
                case .boot: boot = newValue
                case .restore: restore = newValue
                case .save: save = newValue
                }
            }
        }

        /// The defaults for this host. Boots are CPU-bound: one per online CPU keeps every core busy
        /// without time-sharing them (more in parallel finish no sooner, each later). Restores and saves
        /// stream one image each through the same disk: two keep it busy while one waits on the guest.
        /// Each kind is also capped at one per GiB of available memory, so a host short of memory does not
        /// page while guests come up.
        public static func defaults(
            cpus: Int = HostFacts.onlineCPUs, availableMemoryMiB: Int? = HostFacts.availableMemoryMiB
        )
            -> Limits
        {
            let byMemory = availableMemoryMiB.map { max(1, $0 / 1024) } ?? Int.max
            let cpus = max(1, cpus)
            return Limits(boot: min(cpus, byMemory), restore: min(2, cpus, byMemory), save: min(2, cpus, byMemory))
        }
    }

    /// One holder or waiter, as `vmctl slots` shows it.
    public struct Entry: Sendable, Hashable {
        public let kind: Kind
        public let guest: String
        public let pid: Int32
        public let priority: Int
        public let since: Date
    }

    /// `<lock_dir>/slots`.
    public let directory: String
    public let limits: Limits

    public init(lockDirectory: String, limits: Limits) {
        self.directory = lockDirectory + "/slots"
        self.limits = limits
    }

    /// Waits for a slot of `kind` until `deadline` (the time left in the operation), in priority order
    /// (higher first, then first come). Logs when it has to wait and how many are ahead.
    /// - Throws: ``VMError`` `.timedOut` naming the holders when no slot came free in time, `.failed` when the
    ///   slot directory cannot be made.
    public func acquire(
        _ kind: Kind, guest: String, priority: Int, deadline: ContinuousClock.Instant,
        logger: Logger
    ) async throws -> Slot {
        let kindDirectory = "\(directory)/\(kind)"
        let queue = "\(kindDirectory)/queue"
        do { try DurableFile.createDirectory(queue, mode: 0o755) } catch {
            throw VMError(.failed, "cannot create the admission slot directory \(queue) (under lock_dir): \(error)")
        }
        let clock = ContinuousClock()
        let limit = max(1, limits[kind])
        let me = Ticket(priority: priority, arrival: Ticket.now(), pid: getpid(), guest: guest)
        let (ticket, ticketPath) = try Self.enqueue(me, in: queue)
        defer {
            // Unlinked before it is unlocked: no other waiter ever sees it unlocked and takes it for a dead one.
            unlink(ticketPath)
            ticket.release()
        }
        var lastAhead = -1
        let waitStarted = clock.now
        while true {
            let ahead = Self.liveTickets(in: queue).filter { $0 != me && $0.ranksBefore(me) }
            var free: [FileLock] = []
            for i in 0..<limit {
                if let lock = try FileLock.tryAcquire("\(kindDirectory)/\(i).slot") { free.append(lock) }
                if free.count > ahead.count { break }
            }
            if free.count > ahead.count, let slot = free.last {
                for other in free.dropLast() { other.release() }
                slot.note(me.note(kind))
                let waited = clock.now - waitStarted
                if lastAhead >= 0 {
                    logger.info(
                        "got a \(kind) slot",
                        metadata: [
                            "domain.name": "\(guest)",
                            "waited": "\(waited.formattedSeconds)",
                        ])
                }
                return Slot(kind: kind, lock: slot, waited: waited)
            }
            for lock in free { lock.release() }
            if clock.now >= deadline {
                let holders = holders(of: kind).map { "\($0.guest) (pid \($0.pid))" }
                throw VMError(
                    .timedOut,
                    "no \(kind) slot came free for \(guest) within "
                        + "\((clock.now - waitStarted).formattedSeconds): \(limit) held by "
                        + "\(holders.isEmpty ? "others" : holders.joined(separator: ", ")), \(ahead.count) waiting "
                        + "ahead. Raise \(kind)_slots in [global] of vmmanager.conf, or the operation's timeout")
            }
            if ahead.count != lastAhead {
                logger.info(
                    "waiting for a \(kind) slot, \(ahead.count) ahead",
                    metadata: ["domain.name": "\(guest)", "slots": "\(limit)"])
                lastAhead = ahead.count
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Who holds a slot of `kind` now.
    public func holders(of kind: Kind) -> [Entry] {
        let kindDirectory = "\(directory)/\(kind)"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: kindDirectory)) ?? []
        return files.filter { $0.hasSuffix(".slot") }.sorted().compactMap { file -> Entry? in
            let path = "\(kindDirectory)/\(file)"
            guard FileLock.isHeld(path), let text = readFile(path), let ticket = Ticket(note: text.trimmed) else {
                return nil
            }
            return Entry(
                kind: kind, guest: ticket.guest, pid: ticket.pid, priority: ticket.priority, since: ticket.arrival)
        }
    }

    /// Who waits for a slot of `kind` now, first in line first.
    public func waiters(for kind: Kind) -> [Entry] {
        Self.liveTickets(in: "\(directory)/\(kind)/queue").sorted { $0.ranksBefore($1) }.map {
            Entry(kind: kind, guest: $0.guest, pid: $0.pid, priority: $0.priority, since: $0.arrival)
        }
    }

    /// One guest's place in the queues: what an action needs to wait for a slot.
    public struct Request: Sendable {
        public let admission: Admission
        public let guest: String
        public let priority: Int

        public init(admission: Admission, guest: String, priority: Int) {
            self.admission = admission
            self.guest = guest
            self.priority = priority
        }

        public func acquire(_ kind: Kind, deadline: ContinuousClock.Instant, logger: Logger) async throws -> Slot {
            try await admission.acquire(kind, guest: guest, priority: priority, deadline: deadline, logger: logger)
        }
    }

    /// A held slot; released explicitly, when it goes away, or when the process dies.
    public final class Slot: Sendable {
        public let kind: Kind
        /// How long the wait for it took (part of the operation's budget).
        public let waited: Duration
        private let lock: FileLock

        init(kind: Kind, lock: FileLock, waited: Duration) {
            self.kind = kind
            self.lock = lock
            self.waited = waited
        }

        public func release() { lock.release() }
    }

    // MARK: - The queue

    /// A waiter: the file name carries everything, so that listing the queue needs no reads.
    struct Ticket: Hashable {
        let priority: Int
        let arrival: Date
        let pid: Int32
        let guest: String

        /// Now, in the microseconds a ticket's name keeps (so a ticket equals itself read back).
        static func now() -> Date {
            Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1_000_000).rounded() / 1_000_000)
        }

        /// `<priority>_<arrival µs>_<pid>_<guest>`; the guest's '/' (impossible in libvirt names) becomes '_'.
        var fileName: String {
            let micros = Int64((arrival.timeIntervalSince1970 * 1_000_000).rounded())
            return "\(priority)_\(micros)_\(pid)_\(String(guest.map { $0 == "/" ? "_" : $0 }))"
        }

        init(priority: Int, arrival: Date, pid: Int32, guest: String) {
            self.priority = priority
            self.arrival = arrival
            self.pid = pid
            self.guest = guest
        }

        init?(fileName: String) {
            let parts = fileName.split(separator: "_", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, let priority = Int(parts[0]), let micros = Int64(parts[1]),
                let pid = Int32(parts[2])
            else { return nil }
            self.init(
                priority: priority, arrival: Date(timeIntervalSince1970: Double(micros) / 1_000_000), pid: pid,
                guest: String(parts[3]))
        }

        /// A slot's note: `<kind> <ticket file name>`, read back by ``init(note:)``.
        func note(_ kind: Kind) -> String { "\(kind) \(fileName)" }

        init?(note: String) {
            guard let space = note.firstIndex(of: " ") else { return nil }
            self.init(fileName: String(note[note.index(after: space)...]))
        }

        /// Higher priority first, then first come, then the lower pid (two arrivals in one microsecond).
        func ranksBefore(_ other: Ticket) -> Bool {
            if priority != other.priority { return priority > other.priority }
            if arrival != other.arrival { return arrival < other.arrival }
            return pid < other.pid
        }
    }

    /// Puts a locked ticket in the queue. It is locked under a temporary name and then renamed, so no other
    /// waiter ever sees it unlocked and takes it for a dead one.
    static func enqueue(_ ticket: Ticket, in queue: String) throws -> (lock: FileLock, path: String) {
        let temporary = "\(queue)/.\(ticket.pid).\(UInt64.random(in: 0 ... .max)).new"
        guard let lock = try FileLock.tryAcquire(temporary) else {
            throw VMError(.failed, "cannot lock the admission ticket \(temporary)")
        }
        let path = "\(queue)/\(ticket.fileName)"
        guard rename(temporary, path) == 0 else {
            let failure = String(cString: strerror(errno))
            unlink(temporary)
            throw VMError(.failed, "cannot queue for an admission slot (\(path)): \(failure)")
        }
        // The lock is the inode's: it stays on the file under its new name.
        return (lock, path)
    }

    /// The tickets of live waiters; the tickets of dead ones are removed on the way.
    static func liveTickets(in queue: String) -> [Ticket] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: queue)) ?? []
        return files.compactMap { file -> Ticket? in
            guard !file.hasPrefix("."), let ticket = Ticket(fileName: file) else { return nil }
            let path = "\(queue)/\(file)"
            guard FileLock.isHeld(path) else {
                // Its waiter died (or is just leaving, having got its slot): nobody waits behind this file.
                unlink(path)
                return nil
            }
            return ticket
        }
    }
}

/// Facts about this host that defaults are derived from.
public enum HostFacts {
    public static var onlineCPUs: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// `MemAvailable` of /proc/meminfo, in MiB; nil where there is none.
    public static var availableMemoryMiB: Int? {
        guard let text = readFile("/proc/meminfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kib = Int(fields[1]) { return kib / 1024 }
        }
        return nil
    }
}
