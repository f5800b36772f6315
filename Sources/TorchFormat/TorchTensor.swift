import Compute

/// One tensor of a torch.save file: a view (shape, strides, offset) of a storage's bytes, checked to
/// lie inside the storage when the file was opened. The values are read on request, converted to
/// float32 or Int64; strided views (a transpose, a slice) come out contiguous, row-major.
public struct TorchTensor: Sendable {
    public let dtype: TorchDType
    public let shape: [Int]
    /// In elements, as torch stores them.
    public let strides: [Int]
    /// In elements, from the start of the storage.
    public let storageOffset: Int
    /// The number of elements (1 for a 0-d tensor).
    public let count: Int

    private let bytes: ArchiveBytes
    /// The storage's bytes in the file.
    private let data: Range<Int>
    /// "<file>: tensor \"key\"", the start of every message.
    private let label: String

    init(_ r: TensorRecord, bytes: ArchiveBytes, data: Range<Int>, label: String) throws(TorchFormatError) {
        func fail(_ problem: String) -> TorchFormatError { TorchFormatError("\(label): \(problem)") }
        var count = 1
        for n in r.shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fail("shape \(r.shape) has more elements than can be counted") }
            count = p
        }
        let capacity = r.storage.count
        let view = "shape \(r.shape), strides \(r.strides), offset \(r.offset)"
        if count > 0 {
            // The last element a view reaches is offset + Σ (size − 1) · stride; it must lie in the storage.
            var last = r.offset
            for (n, s) in zip(r.shape, r.strides) {
                let (step, o1) = (n - 1).multipliedReportingOverflow(by: s)
                let (sum, o2) = last.addingReportingOverflow(step)
                guard !o1, !o2 else { throw fail("\(view) reaches past any storage") }
                last = sum
            }
            guard last < capacity else {
                throw fail("\(view) reaches element \(last), but its storage \"\(r.storage.key)\" holds \(capacity) elements")
            }
            // Reading allocates `count` elements: never more than the storage (and so the file) holds.
            guard count <= capacity else {
                throw fail("\(view) has \(count) elements, more than the \(capacity) of its storage (an expanded view); save a contiguous copy")
            }
        }
        dtype = r.storage.dtype
        shape = r.shape
        strides = r.strides
        storageOffset = r.offset
        self.count = count
        self.bytes = bytes
        self.data = data
        self.label = label
    }

    /// Row-major contiguous: the elements lie in order from the offset.
    public var isContiguous: Bool {
        guard count > 0 else { return true }
        var expected = 1  // a product of sizes, at most `count`
        for (n, s) in zip(shape, strides).reversed() {
            if n != 1, s != expected { return false }
            expected *= n
        }
        return true
    }

    /// The values as float32: float32 as stored, float16 and bfloat16 widened exactly, float64
    /// rounded to nearest. Integer tensors are refused (use `int64s()`).
    public func float32() throws -> Tensor {
        guard dtype.isFloatingPoint else { throw TorchFormatError("\(label) is \(dtype), not a floating-point type (use int64s())") }
        let t = Tensor(zeros: shape)
        let out = t.data
        let src = bytes.slice(data)
        switch dtype {
        case .float32:
            if isContiguous, count > 0, let base = src.baseAddress {
                precondition(storageOffset + count <= data.count / 4, "tensor view outside its storage")
                UnsafeMutableRawPointer(out).copyMemory(from: base + 4 * storageOffset, byteCount: 4 * count)
            } else {
                forEachElement { i, e in out[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * e, as: UInt32.self))) }
            }
        case .float16:
            forEachElement { i, e in out[i] = Float(Float16(bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * e, as: UInt16.self)))) }
        case .bfloat16:
            forEachElement { i, e in out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * e, as: UInt16.self))) << 16) }
        case .float64:
            forEachElement { i, e in out[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * e, as: UInt64.self)))) }
        default: break
        }
        return t
    }

    /// The values as Int64: int64 as stored; int32, int16, int8, uint8 and bool widened. Floating-point
    /// tensors are refused (use `float32()`).
    public func int64s() throws -> [Int64] {
        guard !dtype.isFloatingPoint else { throw TorchFormatError("\(label) is \(dtype), not an integer type (use float32())") }
        let src = bytes.slice(data)
        var out = [Int64](repeating: 0, count: count)
        #if _endian(little)
        if dtype == .int64, isContiguous, count > 0, let base = src.baseAddress {
            precondition(storageOffset + count <= data.count / 8, "tensor view outside its storage")
            out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + 8 * storageOffset, count: 8 * count)) }
            return out
        }
        #endif
        out.withUnsafeMutableBufferPointer { o in
            switch dtype {
            case .int64:
                forEachElement { i, e in o[i] = Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * e, as: Int64.self)) }
            case .int32:
                forEachElement { i, e in o[i] = Int64(Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * e, as: Int32.self))) }
            case .int16:
                forEachElement { i, e in o[i] = Int64(Int16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * e, as: Int16.self))) }
            case .int8:
                forEachElement { i, e in o[i] = Int64(src.load(fromByteOffset: e, as: Int8.self)) }
            case .uint8, .bool:
                forEachElement { i, e in o[i] = Int64(src.load(fromByteOffset: e, as: UInt8.self)) }
            default: break
            }
        }
        return out
    }

    /// Calls `body(i, e)` for every element in row-major order: i its index in the result, e its
    /// element index in the storage. Each e was proven inside the storage when the tensor was checked;
    /// the precondition is the bounds check an array would make, not a validation.
    private func forEachElement(_ body: (Int, Int) -> Void) {
        guard count > 0 else { return }
        let capacity = data.count / dtype.byteSize
        if isContiguous {
            precondition(storageOffset + count <= capacity, "tensor view outside its storage")
            for i in 0..<count { body(i, storageOffset + i) }
            return
        }
        // An odometer over the indices; `e` follows it by strides. Wrapping arithmetic: a stride
        // over a dimension of size 1 may be any number, and is added and taken away again.
        var index = [Int](repeating: 0, count: shape.count)
        var e = storageOffset
        for i in 0..<count {
            precondition(e >= 0 && e < capacity, "tensor view outside its storage")
            body(i, e)
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                e &+= strides[d]
                if index[d] < shape[d] { break }
                e &-= strides[d] &* shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}
