internal import CLibvirt

/// A libvirt virtual network or storage pool a guest depends on, by name: whether it is active, and
/// starting it ([virNetworkCreate](https://libvirt.org/html/libvirt-libvirt-network.html#virNetworkCreate),
/// [virStoragePoolCreate](https://libvirt.org/html/libvirt-libvirt-storage.html#virStoragePoolCreate)).
/// The handle lives only inside one call: these are looked up, asked and started in one go.
public enum HostResource: Sendable, Hashable, CustomStringConvertible {
    case network(String)
    case storagePool(String)

    public var description: String {
        switch self {
        case .network(let n): "network \(n)"
        case .storagePool(let p): "storage pool \(p)"
        }
    }
}

extension Connection {
    /// Whether the network or pool is active; nil when it is not defined on this host.
    public func isActive(_ resource: HostResource) async throws(LibvirtError) -> Bool? {
        try await withResource(resource, operation: "is active") { kind, handle throws(LibvirtError) -> Bool in
            let rc = kind == .network ? virNetworkIsActive(handle) : virStoragePoolIsActive(handle)
            if rc < 0 {
                throw LibvirtError.last(
                    operation: kind == .network ? "virNetworkIsActive" : "virStoragePoolIsActive",
                    target: resource.description)
            }
            return rc == 1
        }
    }

    /// Starts the (defined, inactive) network or pool.
    /// - Throws: ``LibvirtError`` (`.noNetwork`, `.noStoragePool` when it is not defined).
    public func start(_ resource: HostResource) async throws(LibvirtError) {
        let started = try await withResource(resource, operation: "start") {
            kind, handle throws(LibvirtError) -> Bool in
            let rc = kind == .network ? virNetworkCreate(handle) : virStoragePoolCreate(handle, 0)
            if rc < 0 {
                throw LibvirtError.last(
                    operation: kind == .network ? "virNetworkCreate" : "virStoragePoolCreate",
                    target: resource.description)
            }
            return true
        }
        if started == nil {
            let code: LibvirtError.Code = if case .network = resource { .noNetwork } else { .noStoragePool }
            throw LibvirtError(
                code: code, message: "\(resource) is not defined on \(uri)",
                operation: "start \(resource)", target: resource.description)
        }
    }

    private enum Kind { case network, pool }

    /// Looks the resource up, runs `body` on its handle, frees it. nil when it does not exist.
    private func withResource<T: Sendable>(
        _ resource: HostResource, operation: String,
        _ body: @escaping @Sendable (Kind, OpaquePointer) throws(LibvirtError) -> T
    ) async throws(LibvirtError) -> T? {
        try await call("\(operation) \(resource)", target: resource.description) { (h) throws(LibvirtError) -> T? in
            switch resource {
            case .network(let name):
                guard let n = virNetworkLookupByName(h, name) else { return nil }
                defer { virNetworkFree(n) }
                return try body(.network, n)
            case .storagePool(let name):
                guard let p = virStoragePoolLookupByName(h, name) else { return nil }
                defer { virStoragePoolFree(p) }
                return try body(.pool, p)
            }
        }
    }
}
