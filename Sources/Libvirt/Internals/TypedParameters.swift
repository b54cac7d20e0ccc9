internal import CLibvirt

/// libvirt's `virTypedParameter` lists, read into Swift values and built from them.
enum TypedParameters {
    enum Value: Sendable, Hashable {
        case int(Int32), uint(UInt32), llong(Int64), ullong(UInt64), double(Double), bool(Bool), string(String)

        var uint64: UInt64? {
            switch self {
            case .int(let v): v >= 0 ? UInt64(v) : nil
            case .uint(let v): UInt64(v)
            case .llong(let v): v >= 0 ? UInt64(v) : nil
            case .ullong(let v): v
            case .double(let v): v >= 0 ? UInt64(v) : nil
            case .bool(let v): v ? 1 : 0
            case .string: nil
            }
        }
    }

    static func read(_ params: virTypedParameterPtr?, _ count: Int32) -> [String: Value] {
        guard let params else { return [:] }
        var out: [String: Value] = [:]
        for i in 0..<Int(count) {
            var p = params[i]
            let field = withUnsafeBytes(of: &p.field) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            let value: Value?
            switch Int32(p.type) {
            case Int32(VIR_TYPED_PARAM_INT.rawValue): value = .int(p.value.i)
            case Int32(VIR_TYPED_PARAM_UINT.rawValue): value = .uint(p.value.ui)
            case Int32(VIR_TYPED_PARAM_LLONG.rawValue): value = .llong(p.value.l)
            case Int32(VIR_TYPED_PARAM_ULLONG.rawValue): value = .ullong(p.value.ul)
            case Int32(VIR_TYPED_PARAM_DOUBLE.rawValue): value = .double(p.value.d)
            case Int32(VIR_TYPED_PARAM_BOOLEAN.rawValue): value = .bool(p.value.b != 0)
            case Int32(VIR_TYPED_PARAM_STRING.rawValue): value = p.value.s.map { .string(String(cString: $0)) }
            default: value = nil
            }
            if let value { out[field] = value }
        }
        return out
    }

    /// Builds a C list with libvirt's `virTypedParamsAdd*`, hands it to `body`, then frees it.
    /// Runs on the calling thread (the thread of the libvirt call that uses it).
    static func withList<R>(
        _ values: [(String, Value)], _ body: (virTypedParameterPtr?, Int32) -> R
    ) -> R {
        var params: virTypedParameterPtr?
        var count: Int32 = 0
        var capacity: Int32 = 0
        for (name, value) in values {
            switch value {
            case .int(let v): virTypedParamsAddInt(&params, &count, &capacity, name, v)
            case .uint(let v): virTypedParamsAddUInt(&params, &count, &capacity, name, v)
            case .llong(let v): virTypedParamsAddLLong(&params, &count, &capacity, name, v)
            case .ullong(let v): virTypedParamsAddULLong(&params, &count, &capacity, name, v)
            case .double(let v): virTypedParamsAddDouble(&params, &count, &capacity, name, v)
            case .bool(let v): virTypedParamsAddBoolean(&params, &count, &capacity, name, v ? 1 : 0)
            case .string(let v): virTypedParamsAddString(&params, &count, &capacity, name, v)
            }
        }
        defer { virTypedParamsFree(params, count) }
        return body(params, count)
    }
}
