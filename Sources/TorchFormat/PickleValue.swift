/// The values the restricted unpickler builds: exactly what torch.save's pickle of a tensor or a
/// dict of tensors needs, and nothing that could run code.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    case string(String)
    /// Items and nesting depth (a tuple of no tuples has depth 1); the depth is capped, so dropping
    /// a value never recurses deeply.
    case tuple([PickleValue], depth: Int)
    /// An index into the unpickler's dict table: dicts are shared and mutated (SETITEMS after a
    /// BINPUT), so they live in one place and values refer to them.
    case dict(Int)
    case global(PickleGlobal)
    case storage(StorageReference)
    case tensor(TensorRecord)

    /// For messages: "a tuple", "a dict", …
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "a bool"
        case .int: return "an int"
        case .string: return "a string"
        case .tuple: return "a tuple"
        case .dict: return "a dict"
        case .global(let g): return "the global \(g.name)"
        case .storage: return "a storage"
        case .tensor: return "a tensor"
        }
    }

    var depth: Int {
        if case .tuple(_, let d) = self { return d }
        return 0
    }
}

/// The only globals a pickle may name.
enum PickleGlobal: Equatable {
    case rebuildTensor, rebuildParameter, orderedDict
    case storage(TorchDType)

    init?(module: String, name: String) {
        switch (module, name) {
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch", _):
            guard let t = TorchDType(storageClass: name) else { return nil }
            self = .storage(t)
        default: return nil
        }
    }

    var name: String {
        switch self {
        case .rebuildTensor: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .orderedDict: return "collections.OrderedDict"
        case .storage(let t): return "torch.\(t.storageClass)"
        }
    }
}

/// A storage as its persistent id names it: ('storage', torch.<Type>Storage, key, location, count).
struct StorageReference: Equatable {
    let dtype: TorchDType
    /// The record `data/<key>` holds its bytes.
    let key: String
    let location: String
    /// Elements of `dtype`.
    let count: Int
}

/// The arguments of `_rebuild_tensor_v2`: a view of a storage.
struct TensorRecord {
    let storage: StorageReference
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}

/// A dict under construction. `ordered`: made by `collections.OrderedDict()` (BUILD may set its
/// attributes, which are ignored).
struct PickleDict {
    var items: [(key: PickleValue, value: PickleValue)] = []
    let ordered: Bool
}

/// Pickle opcode names, for messages about the ones this reader refuses.
let pickleOpcodeNames: [UInt8: String] = [
    0x49: "INT", 0x4A: "BININT", 0x4B: "BININT1", 0x4D: "BININT2", 0x4C: "LONG", 0x8A: "LONG1", 0x8B: "LONG4",
    0x53: "STRING", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING", 0x42: "BINBYTES", 0x43: "SHORT_BINBYTES",
    0x8E: "BINBYTES8", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER", 0x4E: "NONE",
    0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x56: "UNICODE", 0x8C: "SHORT_BINUNICODE", 0x58: "BINUNICODE",
    0x8D: "BINUNICODE8", 0x46: "FLOAT", 0x47: "BINFLOAT", 0x5D: "EMPTY_LIST", 0x61: "APPEND", 0x65: "APPENDS",
    0x6C: "LIST", 0x29: "EMPTY_TUPLE", 0x74: "TUPLE", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3",
    0x7D: "EMPTY_DICT", 0x64: "DICT", 0x73: "SETITEM", 0x75: "SETITEMS", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS",
    0x91: "FROZENSET", 0x30: "POP", 0x32: "DUP", 0x28: "MARK", 0x31: "POP_MARK", 0x67: "GET", 0x68: "BINGET",
    0x6A: "LONG_BINGET", 0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT", 0x94: "MEMOIZE", 0x82: "EXT1",
    0x83: "EXT2", 0x84: "EXT4", 0x63: "GLOBAL", 0x93: "STACK_GLOBAL", 0x52: "REDUCE", 0x62: "BUILD", 0x69: "INST",
    0x6F: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x80: "PROTO", 0x2E: "STOP", 0x95: "FRAME", 0x50: "PERSID",
    0x51: "BINPERSID",
]
