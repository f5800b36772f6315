/// A pickle reader that executes nothing: it knows the opcodes torch.save emits for a tensor or a
/// dict of tensors (protocols 2 to 5) and the globals in `PickleGlobal`, and refuses everything else
/// with the opcode or global and its byte offset.
///
/// Accepted opcodes: PROTO, FRAME, STOP, MARK, EMPTY_TUPLE, TUPLE, TUPLE1-3, EMPTY_DICT, SETITEM,
/// SETITEMS, NONE, NEWTRUE, NEWFALSE, BININT, BININT1, BININT2, LONG1 (≤ 8 bytes), BINUNICODE,
/// SHORT_BINUNICODE, BINUNICODE8, BINPUT, LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET, GLOBAL,
/// STACK_GLOBAL, BINPERSID, REDUCE (on the allowed callables only) and BUILD (on an OrderedDict only).
struct Unpickler {
    /// Tuples nest at most this deep (torch needs 2).
    static let maxDepth = 16

    private let bytes: ArchiveBytes
    private let range: Range<Int>
    /// "<file>: <entry>", the start of every message.
    private let label: String
    private(set) var dicts: [PickleDict] = []
    private var stack: [PickleValue] = []
    /// Stack heights at each open MARK.
    private var marks: [Int] = []
    private var memo: [UInt32: PickleValue] = [:]
    private var pos: Int
    /// Dimensions the tensors may still have in all: the pickle's size. torch writes every size and
    /// stride, two bytes or more each; without this bound a small pickle could name one long shape
    /// tuple (BINGET) for many tensors, each of which needs its own arrays.
    private var dimensionBudget: Int
    /// Offset of the current opcode inside the pickle, for messages.
    private var at = 0

    init(_ bytes: ArchiveBytes, range: Range<Int>, label: String) {
        self.bytes = bytes
        self.range = range
        self.label = label
        pos = range.lowerBound
        dimensionBudget = range.count
    }

    private func fail(_ problem: String) -> TorchFormatError { TorchFormatError("\(label): \(problem)") }
    private func failHere(_ problem: String) -> TorchFormatError {
        fail("\(opcodeName(bytes.u8(range.lowerBound + at))) at byte \(at): \(problem)")
    }

    private func opcodeName(_ op: UInt8) -> String {
        let name = pickleOpcodeNames[op].map { "opcode \($0)" } ?? "unknown opcode"
        return "\(name) (\(hex(op)))"
    }

    /// Runs the pickle to its STOP and returns the value it stops with.
    mutating func run() throws(TorchFormatError) -> PickleValue {
        while true {
            guard pos < range.upperBound else { throw fail("the pickle ends at byte \(pos - range.lowerBound) without a STOP opcode") }
            at = pos - range.lowerBound
            let op = bytes.u8(pos)
            pos += 1
            switch op {
            case 0x80:  // PROTO
                let v = try read(1)
                guard (2...5).contains(v) else { throw failHere("pickle protocol \(v) is not one torch.save writes (2 to 5)") }
            case 0x95:  // FRAME: a length prefix for what follows; only checked to lie inside the pickle
                let n = try read(8)
                guard n <= UInt64(range.upperBound - pos) else { throw failHere("frame of \(n) bytes runs past the end of the pickle") }
            case 0x2E:  // STOP
                guard marks.isEmpty, stack.count == 1 else {
                    throw failHere("the pickle stops with \(stack.count) values and \(marks.count) open marks on its stack (expected one value)")
                }
                guard pos == range.upperBound else { throw failHere("\(range.upperBound - pos) bytes follow the STOP opcode") }
                return stack[0]
            case 0x28: marks.append(stack.count)  // MARK
            case 0x29: stack.append(.tuple([], depth: 1))  // EMPTY_TUPLE
            case 0x74: try push(tuple: popMark())  // TUPLE
            case 0x85, 0x86, 0x87: try push(tuple: pop(Int(op) - 0x84))  // TUPLE1-3
            case 0x7D:  // EMPTY_DICT
                dicts.append(PickleDict(ordered: false))
                stack.append(.dict(dicts.count - 1))
            case 0x73:  // SETITEM
                let pair = try pop(2)
                try setItems(pair)
            case 0x75: try setItems(popMark())  // SETITEMS
            case 0x4E: stack.append(.none)  // NONE
            case 0x88: stack.append(.bool(true))  // NEWTRUE
            case 0x89: stack.append(.bool(false))  // NEWFALSE
            case 0x4A: stack.append(.int(Int64(Int32(bitPattern: UInt32(try read(4))))))  // BININT
            case 0x4B: stack.append(.int(Int64(try read(1))))  // BININT1
            case 0x4D: stack.append(.int(Int64(try read(2))))  // BININT2
            case 0x8A:  // LONG1: n bytes, little-endian two's complement
                let n = Int(try read(1))
                guard n <= 8 else { throw failHere("an integer of \(n) bytes does not fit in 64 bits") }
                var v = try read(n)
                if n > 0, n < 8, v >> (8 * n - 1) & 1 == 1 { v |= ~0 << (8 * n) }  // sign-extend
                stack.append(.int(Int64(bitPattern: v)))
            case 0x58: stack.append(.string(try string(length: read(4))))  // BINUNICODE
            case 0x8C: stack.append(.string(try string(length: read(1))))  // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try string(length: read(8))))  // BINUNICODE8
            case 0x71: memo[UInt32(try read(1))] = try top()  // BINPUT
            case 0x72: memo[UInt32(try read(4))] = try top()  // LONG_BINPUT
            case 0x94: memo[UInt32(truncatingIfNeeded: memo.count)] = try top()  // MEMOIZE
            case 0x68: try get(UInt32(read(1)))  // BINGET
            case 0x6A: try get(UInt32(read(4)))  // LONG_BINGET
            case 0x63:  // GLOBAL: "module\nname\n"
                let module = try line(), name = try line()
                try pushGlobal(module: module, name: name)
            case 0x93:  // STACK_GLOBAL
                let pair = try pop(2)
                guard case .string(let module) = pair[0], case .string(let name) = pair[1] else {
                    throw failHere("expects two strings, got \(pair[0].kind) and \(pair[1].kind)")
                }
                try pushGlobal(module: module, name: name)
            case 0x51:  // BINPERSID
                stack.append(.storage(try storage(pop(1)[0])))
            case 0x52:  // REDUCE
                let pair = try pop(2)
                stack.append(try reduce(pair[0], pair[1]))
            case 0x62:  // BUILD: only an OrderedDict's attributes (a state_dict's _metadata), ignored
                let state = try pop(1)[0]
                guard case .dict(let i) = try top(), dicts[i].ordered else {
                    throw failHere("sets the state of \(try top().kind); only an OrderedDict's attributes are accepted")
                }
                switch state {
                case .none, .dict: break
                default: throw failHere("the state of an OrderedDict is \(state.kind), not a dict")
                }
            default:
                throw fail("\(opcodeName(op)) at byte \(at) is not allowed: this reader accepts only tensors and dicts of tensors and executes nothing")
            }
        }
    }

    // MARK: operands

    /// An n-byte little-endian unsigned operand.
    private mutating func read(_ n: Int) throws(TorchFormatError) -> UInt64 {
        guard range.upperBound - pos >= n else { throw failHere("its \(n)-byte operand runs past the end of the pickle") }
        var v: UInt64 = 0
        for k in 0..<n { v |= UInt64(bytes.u8(pos + k)) << (8 * k) }
        pos += n
        return v
    }

    private mutating func string(length: UInt64) throws(TorchFormatError) -> String {
        guard length <= UInt64(range.upperBound - pos) else {
            throw failHere("a string of \(length) bytes runs past the end of the pickle")
        }
        let r = pos..<(pos + Int(length))
        guard let s = String(validating: bytes.slice(r), as: UTF8.self) else { throw failHere("the string is not valid UTF-8") }
        pos = r.upperBound
        return s
    }

    /// A newline-terminated operand of GLOBAL.
    private mutating func line() throws(TorchFormatError) -> String {
        var end = pos
        while end < range.upperBound, bytes.u8(end) != 0x0A { end += 1 }
        guard end < range.upperBound else { throw failHere("its operand has no terminating newline") }
        let s = String(decoding: bytes.slice(pos..<end), as: UTF8.self)
        pos = end + 1
        return s
    }

    // MARK: the stack

    /// The bottom of the region above the innermost MARK, which plain pops may not reach.
    private var floor: Int { marks.last ?? 0 }

    private func top() throws(TorchFormatError) -> PickleValue {
        guard stack.count > floor, let v = stack.last else { throw failHere("the stack is empty") }
        return v
    }

    private mutating func pop(_ n: Int) throws(TorchFormatError) -> [PickleValue] {
        guard stack.count - floor >= n else { throw failHere("needs \(n) values but the stack holds \(stack.count - floor)") }
        defer { stack.removeLast(n) }
        return Array(stack[(stack.count - n)...])
    }

    private mutating func popMark() throws(TorchFormatError) -> [PickleValue] {
        guard let m = marks.popLast() else { throw failHere("there is no MARK to pop to") }
        defer { stack.removeLast(stack.count - m) }
        return Array(stack[m...])
    }

    private mutating func push(tuple items: [PickleValue]) throws(TorchFormatError) {
        let depth = 1 + items.reduce(0) { max($0, $1.depth) }
        guard depth <= Self.maxDepth else { throw failHere("tuples nest deeper than \(Self.maxDepth)") }
        stack.append(.tuple(items, depth: depth))
    }

    private mutating func get(_ index: UInt32) throws(TorchFormatError) {
        guard let v = memo[index] else { throw failHere("memo entry \(index) was never stored") }
        stack.append(v)
    }

    private mutating func setItems(_ items: [PickleValue]) throws(TorchFormatError) {
        guard items.count % 2 == 0 else { throw failHere("\(items.count) values do not make key/value pairs") }
        guard case .dict(let i) = try top() else { throw failHere("adds items to \(try top().kind), not a dict") }
        for k in stride(from: 0, to: items.count, by: 2) { dicts[i].items.append((items[k], items[k + 1])) }
    }

    private mutating func pushGlobal(module: String, name: String) throws(TorchFormatError) {
        guard let g = PickleGlobal(module: module, name: name) else {
            if module == "torch", name.hasSuffix("Storage") {
                throw failHere("storage type torch.\(name.prefix(100)) is not supported (supported: \(TorchDType.allCases.map(\.storageClass).joined(separator: ", ")))")
            }
            let shown = "\(module).\(name)".prefix(200)
            throw failHere("the global \(shown) is not allowed: this reader accepts only tensors and dicts of tensors and executes nothing")
        }
        stack.append(.global(g))
    }

    // MARK: torch's objects

    /// ('storage', torch.<Type>Storage, key, location, element count)
    private func storage(_ pid: PickleValue) throws(TorchFormatError) -> StorageReference {
        guard case .tuple(let t, _) = pid, t.count == 5, case .string("storage") = t[0], case .global(.storage(let dtype)) = t[1],
              case .string(let key) = t[2], case .string(let location) = t[3], case .int(let count) = t[4] else {
            throw failHere("the persistent id is not ('storage', torch.<Type>Storage, key, location, count)")
        }
        guard count >= 0, let n = Int(exactly: count) else { throw failHere("storage \"\(key)\" has a negative element count \(count)") }
        return StorageReference(dtype: dtype, key: key, location: location, count: n)
    }

    private mutating func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws(TorchFormatError) -> PickleValue {
        guard case .global(let g) = callable else { throw failHere("calls \(callable.kind), not an allowed global") }
        guard case .tuple(let args, _) = arguments else { throw failHere("calls \(g.name) with \(arguments.kind), not a tuple") }
        switch g {
        case .orderedDict:
            guard args.isEmpty else { throw failHere("calls collections.OrderedDict with \(args.count) arguments (torch passes none)") }
            dicts.append(PickleDict(ordered: true))
            return .dict(dicts.count - 1)
        case .rebuildParameter:
            // (tensor, requires_grad, backward hooks): the tensor itself.
            guard args.count == 3, case .tensor = args[0], case .bool = args[1], case .dict = args[2] else {
                throw failHere("calls \(g.name) with arguments other than (tensor, requires_grad, hooks)")
            }
            return args[0]
        case .rebuildTensor:
            return .tensor(try tensor(args))
        case .storage:
            throw failHere("calls the storage class \(g.name); storages only appear in persistent ids")
        }
    }

    /// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    private mutating func tensor(_ args: [PickleValue]) throws(TorchFormatError) -> TensorRecord {
        guard args.count == 6 || args.count == 7, case .storage(let storage) = args[0], case .int(let offset) = args[1],
              case .tuple(let size, _) = args[2], case .tuple(let stride, _) = args[3], case .bool = args[4], case .dict = args[5] else {
            throw failHere("calls _rebuild_tensor_v2 with arguments other than (storage, offset, size, stride, requires_grad, hooks)")
        }
        if args.count == 7 {
            switch args[6] {
            case .none: break
            case .dict(let i) where dicts[i].items.isEmpty: break
            default: throw failHere("the tensor carries metadata (such as conjugate or negative bits) that this reader does not apply")
            }
        }
        dimensionBudget -= size.count
        guard dimensionBudget >= 0 else {
            throw failHere("the tensors have more dimensions in all than a pickle of \(range.count) bytes can describe")
        }
        func ints(_ values: [PickleValue], _ what: String) throws(TorchFormatError) -> [Int] {
            var out: [Int] = []
            for v in values {
                guard case .int(let n) = v, n >= 0, let i = Int(exactly: n) else {
                    throw failHere("the tensor's \(what) holds \(v.kind == "an int" ? "a negative number" : v.kind)")
                }
                out.append(i)
            }
            return out
        }
        let shape = try ints(size, "size"), strides = try ints(stride, "stride")
        guard shape.count == strides.count else {
            throw failHere("the tensor has \(shape.count) sizes but \(strides.count) strides")
        }
        guard offset >= 0, let o = Int(exactly: offset) else { throw failHere("the tensor has a negative storage offset \(offset)") }
        return TensorRecord(storage: storage, offset: o, shape: shape, strides: strides)
    }
}
