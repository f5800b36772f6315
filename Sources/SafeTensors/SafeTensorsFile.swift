import Compute
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One safetensors file, memory-mapped and validated when opened.
///
/// The mapping is private and copy-on-write: the file is opened read-only and never changes, but a
/// caller that writes into a zero-copy F32 tensor gets its own page instead of a crash.
public final class SafeTensorsFile: @unchecked Sendable {
    public let url: URL
    public let metadata: [String: String]
    public let entries: [String: TensorEntry]
    /// Tensor names, sorted.
    public let names: [String]

    private let base: UnsafeMutableRawPointer
    private let mappedSize: Int
    /// Offset of the data buffer from the start of the file.
    private let dataStart: Int

    public init(url: URL) throws {
        self.url = url
        let path = url.path
        // O_NONBLOCK: opening a FIFO must not hang; only regular files are accepted below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw SafeTensorsError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SafeTensorsError("\(path): cannot stat: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw SafeTensorsError("\(path): not a regular file") }
        let size = Int(st.st_size)
        guard size >= 8 else { throw SafeTensorsError("\(path): file is \(size) bytes, shorter than the 8-byte header length") }
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw SafeTensorsError("\(path): cannot map \(size) bytes: \(String(cString: strerror(errno)))")
        }
        base = p
        mappedSize = size
        let header: SafeTensorsHeader
        do {
            header = try SafeTensorsHeader(file: UnsafeRawBufferPointer(start: p, count: size), name: path)
        } catch {
            munmap(p, size)
            throw error
        }
        dataStart = 8 + header.headerSize
        entries = header.entries
        metadata = header.metadata
        names = header.entries.keys.sorted()
    }

    deinit { munmap(base, mappedSize) }

    public func entry(_ name: String) -> TensorEntry? { entries[name] }

    private func lookup(_ name: String) throws(SafeTensorsError) -> TensorEntry {
        guard let e = entries[name] else { throw SafeTensorsError("\(url.path): no tensor named \"\(name)\"") }
        return e
    }

    private func pointer(_ e: TensorEntry) -> UnsafeMutableRawPointer { base + dataStart + e.range.lowerBound }

    /// The stored bytes of a tensor, as laid out in the file (little-endian). Valid while `self` lives.
    public func bytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let e = try lookup(name)
        return UnsafeRawBufferPointer(start: pointer(e), count: e.byteCount)
    }

    /// The tensor as float32. A 4-byte-aligned F32 tensor is a zero-copy view into the mapping (it
    /// keeps this file alive); BF16, F16 and F64 are converted into a new buffer.
    public func tensor(_ name: String) throws -> Tensor {
        let e = try lookup(name)
        let src = pointer(e)
        switch e.dtype {
        case .f32:
            if Int(bitPattern: src) % MemoryLayout<Float>.alignment == 0, e.count > 0 {
                return Tensor(shape: e.shape, borrowing: src.assumingMemoryBound(to: Float.self), owner: self)
            }
            let t = Conversion.uninitializedTensor(e.shape, count: e.count)
            Conversion.f32Copy(src, t.data, count: e.count)
            return t
        case .bf16, .f16, .f64:
            let t = Conversion.uninitializedTensor(e.shape, count: e.count)
            switch e.dtype {
            case .bf16: Conversion.bf16ToF32(src, t.data, count: e.count)
            case .f16: Conversion.f16ToF32(src, t.data, count: e.count)
            default: Conversion.f64ToF32(src, t.data, count: e.count)
            }
            release(e)
            return t
        default:
            throw SafeTensorsError("\(url.path): tensor \"\(name)\" is \(e.dtype.rawValue), not a float type (use int32s/int64s/bytes)")
        }
    }

    /// A weight matrix: a 2-byte-aligned BF16 tensor stays BF16 as a zero-copy view into the mapping
    /// (it keeps this file alive) when `keepBFloat16`; everything else is `tensor(name)` as float32.
    public func weightMatrix(_ name: String, keepBFloat16: Bool) throws -> WeightMatrix {
        let e = try lookup(name)
        let src = pointer(e)
        guard keepBFloat16, e.dtype == .bf16, e.count > 0, Int(bitPattern: src) % MemoryLayout<UInt16>.alignment == 0 else {
            return WeightMatrix(try tensor(name))
        }
        return WeightMatrix(bfloat16: UnsafePointer(src.assumingMemoryBound(to: UInt16.self)), shape: e.shape, owner: self)
    }

    /// The tensor as Int32: I32 as stored; I64 narrowed (an error if a value does not fit); I16, I8, U8
    /// and BOOL widened.
    public func int32s(_ name: String) throws -> [Int32] {
        let e = try lookup(name)
        let src = UnsafeRawPointer(pointer(e))
        switch e.dtype {
        case .i64:
            return try (0..<e.count).map { i in
                let v = src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)
                guard let n = Int32(exactly: v) else {
                    throw SafeTensorsError("\(url.path): tensor \"\(name)\" value \(v) at index \(i) does not fit in Int32")
                }
                return n
            }
        default:
            return try integers(e).map { Int32(truncatingIfNeeded: $0) }
        }
    }

    /// The tensor as Int64: I64 as stored; I32, I16, I8, U8 and BOOL widened.
    public func int64s(_ name: String) throws -> [Int64] {
        let e = try lookup(name)
        if e.dtype == .i64 {
            let src = UnsafeRawPointer(pointer(e))
            return (0..<e.count).map { src.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) }
        }
        return try integers(e)
    }

    /// Integer types of at most 32 bits, widened.
    private func integers(_ e: TensorEntry) throws(SafeTensorsError) -> [Int64] {
        let src = UnsafeRawPointer(pointer(e))
        switch e.dtype {
        case .i32: return (0..<e.count).map { Int64(src.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        case .i16: return (0..<e.count).map { Int64(src.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
        case .i8: return (0..<e.count).map { Int64(src.load(fromByteOffset: $0, as: Int8.self)) }
        case .u8, .bool: return (0..<e.count).map { Int64(src.load(fromByteOffset: $0, as: UInt8.self)) }
        default:
            throw SafeTensorsError("\(url.path): tensor \"\(e.name)\" is \(e.dtype.rawValue), not an integer type")
        }
    }

    /// After a conversion the source pages are not needed again soon: let the kernel drop them (they
    /// are still clean copies of the file, so a later read simply faults them back in). Only pages
    /// wholly inside the tensor are released, so neighbours are untouched.
    private func release(_ e: TensorEntry) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(bitPattern: base) + dataStart + e.range.lowerBound
        let end = start + e.byteCount
        let lo = (start + page - 1) / page * page, hi = end / page * page
        if hi > lo { madvise(UnsafeMutableRawPointer(bitPattern: lo), hi - lo, MADV_DONTNEED) }
    }
}
