import FoundationEssentials
import Libvirt
#if canImport(Glibc)
import Glibc
#endif

/// Saved state that follows the guest: where its image lives, which image a start may restore, and what
/// happens to every other one.
///
/// The rule that keeps a guest from being rolled back in time: the guest's generation (a counter beside
/// its saved state, on the storage that moves with it) advances whenever it comes up, on any node. An image
/// is restored only when it was saved in the current generation and its disks have not changed since;
/// anything else is moved to quarantine (never deleted, never restored) and the guest cold-boots. libvirt
/// is never allowed to restore an image on its own: every boot that is not our restore is a force-boot.
extension GuestController {
    /// The saved-state files of guest `name` under these settings.
    public func savedStateStore(for name: String) -> SavedStateStore {
        let managed = managedStore(for: name)
        switch settings.savedState {
        case .managed:
            return managed
        case .directory(let directory):
            return SavedStateStore(
                guest: name, kind: .directory, directory: directory,
                managedSaveDirectory: settings.managedSaveDirectory)
        case .auto:
            guard let config = definitionPath(of: name) else { return managed }
            return SavedStateStore(
                guest: name, kind: .directory, directory: DurableFile.directoryName(of: config),
                managedSaveDirectory: settings.managedSaveDirectory)
        }
    }

    /// libvirt's managed-save image of `name` and its records (under `state_dir/saved`).
    func managedStore(for name: String) -> SavedStateStore {
        SavedStateStore(
            guest: name, kind: .managed, directory: "\(settings.stateDirectory)/saved",
            managedSaveDirectory: settings.managedSaveDirectory)
    }

    /// The images among `images` that stand in the guest's saved state (not a node-local image of libvirt's
    /// while it lives elsewhere): more than one means two nodes saved the guest, and an admin must choose.
    static func competing(_ images: [SavedImage], in store: SavedStateStore) -> [SavedImage] {
        images.filter { !$0.isManagedSave || store.kind == .managed }
    }

    /// Whether the guest's saved images need an admin's choice (split brain).
    public func isConflict(_ images: [SavedImage], of guest: String) -> Bool {
        Self.competing(images, in: savedStateStore(for: guest)).count > 1
    }

    /// libvirt's managed-save image of `domain` as a saved image (its records under `state_dir/saved`), or
    /// nil when libvirt has none.
    /// - Throws: when libvirt has one but it is not in `managed_save_dir`: it could be neither judged nor kept.
    func managedSaveImage(of domain: Domain) async throws -> SavedImage? {
        let has = try await libvirt("checking \(domain.name) for a managed-save image") {
            try await domain.isPersistent() ? try await domain.hasManagedSaveImage() : false
        }
        guard has else { return nil }
        let store = managedStore(for: domain.name)
        guard let image = store.images().first else {
            throw VMError(
                .failed,
                "libvirt has a managed-save image of \(domain.name), but it is not at "
                    + "\(store.imagePath) to be judged or kept aside; set managed_save_dir to qemu.conf's "
                    + "save_image_dir. vmmanager will not let libvirt restore or discard it unseen")
        }
        return image
    }

    /// Every saved image of the guest this node can see, with its verdict (for `vmctl` and the start).
    public func savedImages(of domain: Domain) async throws -> [(image: SavedImage, verdict: SavedImageVerdict)] {
        let store = savedStateStore(for: domain.name)
        var found: [SavedImage] = []
        if store.kind == .managed {
            if let image = try await managedSaveImage(of: domain) { found.append(image) }
        } else {
            found = store.images()
            if let local = try? await managedSaveImage(of: domain) { found.append(local) }
        }
        let generation = store.generation()
        let ours = Self.competing(found, in: store)
        return found.map { image in
            if image.isManagedSave && store.kind == .directory {
                return (
                    image,
                    .stale(
                        "it is libvirt's node-local managed-save image; this guest's saved state lives "
                            + "in \(store.directory)")
                )
            }
            if ours.count > 1 {
                return (
                    image,
                    .stale(
                        "one of \(ours.count) saved images written by nodes that both ran the guest "
                            + "(split brain); an admin must choose: `vmctl saved \(domain.name) --keep PATH`")
                )
            }
            return (image, image.verdict(uuid: domain.uuid, generation: generation))
        }
    }

    enum RestoreResult {
        case noImage
        case restored(SavedImage)
        /// Restoring failed: the image was kept aside and the guest cold-booted.
        case failed(String)
    }

    /// Restores the guest's saved state if it is current; quarantines every image that is not.
    /// On `.noImage` the guest has not been started: the caller force-boots it.
    func restoreSavedState(
        _ domain: Domain, node: String, deadline: ContinuousClock.Instant
    ) async throws -> RestoreResult {
        let clock = ContinuousClock()
        let name = domain.name
        let store = savedStateStore(for: name)

        // An image libvirt keeps on this node, while the guest's saved state lives elsewhere: from before a
        // takeover, from the old default, or from `virsh managedsave`. Never ours to restore.
        if store.kind == .directory, let local = try await managedSaveImage(of: domain) {
            try await discard(
                local, of: domain,
                why: "it is libvirt's node-local managed-save image; this guest's "
                    + "saved state lives in \(store.directory)")
        }
        // An image left where an earlier configuration of this resource saved the guest.
        if store.kind == .directory, let previous = memory.savedStateDirectory(name), previous != store.directory {
            let old = SavedStateStore(
                guest: name, kind: .directory, directory: previous,
                managedSaveDirectory: settings.managedSaveDirectory)
            for image in old.images() {
                try await discard(
                    image, of: domain,
                    why: "it was saved under an earlier configuration of this guest; its "
                        + "saved state now lives in \(store.directory)")
            }
        }

        // What an interrupted save left: the guest's memory, but never committed, so never restored; kept in
        // quarantine rather than left to pile up beside the XML.
        for abandoned in store.abandonedTemporaries() {
            try await discard(abandoned, of: domain, why: "a save that was interrupted before it was committed left it")
        }
        let images = store.kind == .managed ? try await managedSaveImage(of: domain).map { [$0] } ?? [] : store.images()
        if images.count > 1 {
            let list = images.map(\.summary).joined(separator: "; ")
            throw VMError(
                .failed,
                "guest \(name) has \(images.count) saved images, written by two nodes that both "
                    + "ran it (split brain): \(list). vmmanager will not choose between them. See them with "
                    + "`vmctl saved \(name)`, keep one with `vmctl saved \(name) --keep PATH` (the others go "
                    + "to \(settings.quarantineDirectory)), or boot fresh with `vmctl saved \(name) --discard`")
        }
        guard let image = images.first else { return .noImage }
        let verdict = image.verdict(uuid: domain.uuid, generation: store.generation())
        if case .stale(let why) = verdict {
            try await discard(image, of: domain, why: why)
            return .noImage
        }
        // The slot before the claim: a restore that times out waiting must leave its image current.
        let slot = try await admission(for: name).acquire(.restore, deadline: deadline, logger: logger)
        defer { slot.release() }
        // Claim it before restoring: a node that dies between the two leaves an image that is no longer
        // current (the guest cold-boots next time), never one that can be restored twice.
        do {
            let record = try store.advance(uuid: domain.uuid, node: node, how: "restored")
            memory.rememberGeneration(name, record.generation)
        } catch {
            throw VMError(
                .failed,
                "cannot advance the generation of \(name) in \(store.generationPath) (\(error)); "
                    + "restoring its image without it could later restore the same image twice. Make the "
                    + "saved-state directory writable")
        }
        do {
            let left = max(.seconds(1), deadline - clock.now)
            if image.isManagedSave {
                try await domain.start(timeout: left)  // libvirt restores its managed-save image, then removes it
            } else {
                try await domain.connection.restoreDomain(from: image.path, flags: .running, timeout: left)
            }
            store.removeRestored(image)
            return .restored(image)
        } catch {
            let kept: String
            do { kept = try SavedStateStore.quarantine(image, into: settings.quarantineDirectory) } catch {
                throw VMError(
                    .failed,
                    "restoring \(image.path) failed, and the image cannot be kept aside "
                        + "(\(error)); refusing to discard it")
            }
            try await libvirt("cold-booting \(name)") {
                try await domain.start(flags: coldBootFlags, timeout: max(.seconds(1), deadline - clock.now))
            }
            let message = error.message
            return .failed(
                "restoring \(image.path) failed (\(message)); the image was kept as \(kept) and the guest "
                    + "was cold-booted")
        }
    }

    /// Moves an image that must not be restored to quarantine and says so loudly.
    func discard(_ image: SavedImage, of domain: Domain, why: String) async throws {
        let kept: String
        do { kept = try await quarantineAll([image], of: domain)[0] } catch {
            throw VMError(
                .failed,
                "the saved image \(image.path) of \(domain.name) must not be restored (\(why)), "
                    + "but it cannot be kept aside in \(settings.quarantineDirectory): \(error). Refusing "
                    + "to start rather than restore or lose it")
        }
        logger.warning(
            "stale saved image put in quarantine",
            metadata: [
                "domain.name": "\(domain.name)", "image": "\(image.path)", "kept_as": "\(kept)", "why": "\(why)",
            ])
        var t = Transition(
            kind: .staleImageDiscarded, guest: domain.name, uuid: domain.uuid,
            reason: "saved image \(image.summary) not restored: \(why); kept as \(kept)",
            configPath: settings.configPath)
        t.details = [
            "image": image.path, "kept_as": kept, "why": why,
            "image_age_seconds": "\(Int(image.age().rounded()))",
        ]
        if let p = image.provenance {
            t.details["saved_on"] = p.node
            t.details["saved_at"] = EventText.iso8601(p.savedAt)
            t.details["image_generation"] = "\(p.generation)"
        }
        reporter.report(t)
    }

    /// Advances the guest's generation after it came up here other than by our restore.
    func recordComingUp(_ domain: Domain, node: String, how: String) {
        let store = savedStateStore(for: domain.name)
        do {
            let record = try store.advance(uuid: domain.uuid, node: node, how: how)
            memory.rememberGeneration(domain.name, record.generation)
        } catch {
            // The guest is up; failing its start now would not help. Any image already there stays judged by
            // its disks, and no image can be saved there either.
            logger.error(
                "cannot advance the guest's generation",
                metadata: [
                    "domain.name": "\(domain.name)", "path": "\(store.generationPath)", "error": "\(error)",
                ])
        }
    }

    /// The node name that goes into provenance and generation records: the host libvirt runs on.
    func nodeName(_ host: Hypervisor) async -> String {
        (try? await host.connection.hostname()) ?? TransitionEvent.localNode
    }

    /// Writable, unshared file-backed disks of the guest, stamped now.
    static func diskStamps(_ definition: DomainDefinition?) -> [DiskStamp] {
        (definition?.disks ?? []).compactMap { disk in
            guard disk.device == "disk", !disk.readOnly, !disk.shareable, let source = disk.source else { return nil }
            return DiskStamp.of(source)
        }
    }

    /// Sets a restored or resumed guest's clock to the host's through its agent, and returns how far off
    /// it was (seconds; positive = the guest was behind). A guest without an agent is logged, not failed.
    func synchroniseClock(_ domain: Domain, deadline: ContinuousClock.Instant) async -> Double? {
        let clock = ContinuousClock()
        func left() -> Duration { max(.milliseconds(500), min(.seconds(3), deadline - clock.now)) }
        do {
            let before = try await domain.guestTime(timeout: left())
            let skew = Date().timeIntervalSince(before)
            do { try await domain.setGuestTime(Date(), timeout: left()) } catch {
                // qemu-ga sets the system clock first, then runs hwclock; a guest without an RTC tool reports
                // an error although its clock is right. Judge by the clock itself.
                let after = try await domain.guestTime(timeout: left())
                if abs(Date().timeIntervalSince(after)) > 1 { throw error }
            }
            logger.info(
                "guest clock set",
                metadata: [
                    "domain.name": "\(domain.name)",
                    "skew": "\(EventText.formatSeconds(skew))",
                ])
            return skew
        } catch {
            logger.warning(
                "could not set the guest's clock through its agent",
                metadata: [
                    "domain.name": "\(domain.name)", "error": "\((error as? LibvirtError)?.message ?? "\(error)")",
                ])
            return nil
        }
    }

    // MARK: - An admin's choice (vmctl saved)

    /// Keeps `path` as the guest's saved state (it becomes current: the next start restores it) and moves
    /// every other image of the guest to quarantine.
    public func keepSavedImage(_ path: String, budget: Duration) async throws -> [String] {
        try await withSavedImages(budget: budget, purpose: "keep a saved image") { domain, store, images in
            guard let chosen = images.first(where: { $0.image.path == path }) else {
                throw VMError(
                    .invalidInput,
                    "\(path) is not a saved image of \(domain.name); `vmctl saved \(domain.name)` "
                        + "lists them")
            }
            guard let provenance = chosen.image.provenance, provenance.uuid == domain.uuid else {
                throw VMError(.refused, "\(path) has no provenance record of this guest; it cannot be restored safely")
            }
            guard !chosen.image.isManagedSave || store.kind == .managed else {
                throw VMError(
                    .refused,
                    "\(path) is libvirt's node-local image; this guest's saved state lives in "
                        + "\(store.directory)")
            }
            let kept = try await quarantineAll(images.map(\.image).filter { $0.path != path }, of: domain)
            if chosen.image.isConflictCopy {
                let data = SavedStateStore.encode(provenance)
                try DurableFile.write(data, to: store.provenancePath(of: store.imagePath))
                guard try DurableFile.moveWithoutReplacing(chosen.image.path, to: store.imagePath) else {
                    throw VMError(.failed, "\(store.imagePath) appeared meanwhile; run the command again")
                }
                unlink(chosen.image.provenancePath)
            }
            try store.adopt(provenance, node: await nodeName(try await connect(timeout: budget)))
            return kept
        }
    }

    /// Moves every saved image of the guest to quarantine: the next start cold-boots it.
    public func discardSavedImages(budget: Duration) async throws -> [String] {
        try await withSavedImages(budget: budget, purpose: "discard saved images") { domain, _, images in
            try await quarantineAll(images.map(\.image), of: domain)
        }
    }

    /// Moves `images` to quarantine (libvirt's own is kept by a hard link, then removed from libvirt, which
    /// would otherwise restore or delete it). The caller holds the guest's lock.
    func quarantineAll(_ images: [SavedImage], of domain: Domain) async throws -> [String] {
        var kept: [String] = []
        for image in images {
            kept.append(try SavedStateStore.quarantine(image, into: settings.quarantineDirectory))
            if image.isManagedSave {
                try await libvirt("removing the managed-save image of \(domain.name) (kept in quarantine)") {
                    try await domain.removeManagedSaveImage()
                }
            }
        }
        return kept
    }

    private func withSavedImages(
        budget: Duration, purpose: String,
        _ body: (Domain, SavedStateStore, [(image: SavedImage, verdict: SavedImageVerdict)]) async throws -> [String]
    ) async throws -> [String] {
        let name = try requiredGuest().name
        let lock = try await FileLock.acquire(
            guest: name, directory: settings.lockDirectory, timeout: budget,
            purpose: purpose)
        defer { lock.release() }
        let host = try await connect(timeout: budget)
        let domain = try await host.guest(name)
        if try await domain.state().isActive {
            throw VMError(.refused, "guest \(name) is running here; its saved images are not in use. Stop it first")
        }
        return try await body(domain, savedStateStore(for: name), try await savedImages(of: domain))
    }
}

extension GuestController {
    /// After the stop chain saved the guest: records the image's provenance and puts it in the guest's
    /// place (a conflict copy if another image stands there). Never loses the image: on any failure it
    /// stays where it is and the problem is returned for the transition.
    func commitSave(
        _ domain: Domain, on host: Hypervisor, store: SavedStateStore, temporary: String?,
        definition: DomainDefinition?
    ) async -> (SavedImage?, String?) {
        let name = domain.name
        let provenance = Provenance(
            guest: name, uuid: domain.uuid, node: await nodeName(host), savedAt: Date(),
            generation: memory.rememberedGeneration(name) ?? store.generation()?.generation ?? 0,
            disks: Self.diskStamps(definition))
        do {
            let image: SavedImage
            if let temporary {
                image = try store.commit(temporary: temporary, provenance: provenance)
            } else {
                try store.recordManagedSave(provenance)
                guard let managed = store.images().first else {
                    return (
                        nil,
                        "libvirt saved the guest, but its image is not at \(store.imagePath) (set managed_save_dir)"
                    )
                }
                image = managed
            }
            memory.rememberSavedStateDirectory(name, store.directory)
            if image.isConflictCopy {
                logger.error(
                    """
                    another saved image of this guest already exists: two nodes ran it (split brain); both are kept, \
                    and the next start waits for an admin's choice (vmctl saved)
                    """,
                    metadata: ["domain.name": "\(name)", "image": "\(image.path)"])
                return (
                    image,
                    "another saved image already stood at \(store.imagePath): two nodes ran this guest "
                        + "(split brain). Both are kept; start refuses until an admin chooses with `vmctl saved "
                        + "\(name)`"
                )
            }
            return (image, nil)
        } catch {
            let at = temporary ?? store.imagePath
            logger.error(
                "the saved image could not be committed; it stays where libvirt wrote it",
                metadata: ["domain.name": "\(name)", "image": "\(at)", "error": "\(error)"])
            return (nil, "the image could not be committed (\(error)); it was left at \(at)")
        }
    }
}
