import Compute
import FileIO
import Foundation
import JSON

/// Collects tensors and writes them as one safetensors file, laid out as the reference writes them:
/// `__metadata__` first, tensors ordered by element size (largest first, so each stays aligned) then
/// by name, and the header padded with spaces to a multiple of 8 bytes.
///
/// `add` does not throw; a bad request (duplicate name, byte count not matching the shape) is kept
/// and reported by `write`, naming the tensor.
///
/// F32 tensors are not copied: their buffers are read when the file is written, so a checkpoint of
/// weights and optimizer moments never exists twice in memory.
public struct SafeTensorsWriter {
    private enum Payload {
        case floats(Tensor)
        case bytes([UInt8])
    }
    private struct Item {
        let name: String
        let dtype: SafeTensorsDType
        let shape: [Int]
        let payload: Payload
        var byteCount: Int {
            switch payload {
            case .floats(let t): return 4 * t.count
            case .bytes(let b): return b.count
            }
        }
        func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            switch payload {
            case .floats(let t): return try body(UnsafeRawBufferPointer(start: t.data, count: 4 * t.count))
            case .bytes(let b): return try b.withUnsafeBytes(body)
            }
        }
    }
    private var items: [String: Item] = [:]
    private var problems: [String] = []

    public init() {}

    /// Adds a float tensor stored as `dtype`: F32 (read from `tensor` when the file is written, so it
    /// must not change before), BF16 (rounded to nearest even as torch does), F16 or F64.
    public mutating func add(_ name: String, _ tensor: Tensor, dtype: SafeTensorsDType = .f32) {
        if dtype == .f32 {
            insert(Item(name: name, dtype: .f32, shape: tensor.shape, payload: .floats(tensor)))
            return
        }
        let n = tensor.count
        var bytes = [UInt8](repeating: 0, count: n * dtype.byteSize)
        let src = tensor.data
        bytes.withUnsafeMutableBytes { out in
            let dst = out.baseAddress!
            switch dtype {
            case .bf16:
                let p = dst.assumingMemoryBound(to: UInt16.self)
                Parallel.forChunks(n, grain: Conversion.grain) { r in for i in r { p[i] = Conversion.floatToBF16(src[i]).littleEndian } }
            case .f16:
                let p = dst.assumingMemoryBound(to: UInt16.self)
                Parallel.forChunks(n, grain: Conversion.grain) { r in for i in r { p[i] = Conversion.floatToHalf(src[i]).littleEndian } }
            case .f64:
                let p = dst.assumingMemoryBound(to: Double.self)
                for i in 0..<n { p[i] = Double(src[i]) }
            default:
                problems.append("tensor \"\(name)\": cannot store a float tensor as \(dtype.rawValue)")
            }
        }
        insert(Item(name: name, dtype: dtype, shape: tensor.shape, payload: .bytes(bytes)))
    }

    public mutating func add(_ name: String, int32s: [Int32], shape: [Int]) {
        add(name, bytes: int32s.withUnsafeBytes { Array($0) }, shape: shape, dtype: .i32)
    }

    public mutating func add(_ name: String, int64s: [Int64], shape: [Int]) {
        add(name, bytes: int64s.withUnsafeBytes { Array($0) }, shape: shape, dtype: .i64)
    }

    /// Adds raw little-endian bytes of any dtype.
    public mutating func add(_ name: String, bytes: [UInt8], shape: [Int], dtype: SafeTensorsDType) {
        insert(Item(name: name, dtype: dtype, shape: shape, payload: .bytes(bytes)))
    }

    private mutating func insert(_ item: Item) {
        let what = "tensor \"\(item.name)\""
        if item.name == "__metadata__" { problems.append("\(what): the name is reserved"); return }
        if items[item.name] != nil { problems.append("\(what) added twice"); return }
        guard item.shape.allSatisfy({ $0 >= 0 }) else { problems.append("\(what): negative dimension in shape \(item.shape)"); return }
        let count = item.shape.reduce(1, *)
        guard count * item.dtype.byteSize == item.byteCount else {
            problems.append("\(what): shape \(item.shape) of \(item.dtype.rawValue) needs \(count * item.dtype.byteSize) bytes, got \(item.byteCount)")
            return
        }
        items[item.name] = item
    }

    /// The items in file order and the padded header (length prefix included).
    private func layout(metadata: [String: String]) throws(SafeTensorsError) -> (prefix: [UInt8], ordered: [Item]) {
        if let problem = problems.first { throw SafeTensorsError(problem) }
        let ordered = items.values.sorted {
            ($0.dtype.layoutRank, $1.name) > ($1.dtype.layoutRank, $0.name)
        }
        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(JSONValue.quoted($0.key)):\(JSONValue.quoted($0.value))" }
            parts.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for item in ordered {
            let end = offset + item.byteCount
            parts.append("\(JSONValue.quoted(item.name)):{\"dtype\":\"\(item.dtype.rawValue)\",\"shape\":[\(item.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array("{\(parts.joined(separator: ","))}".utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        var prefix: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { prefix.append(contentsOf: $0) }
        return (prefix + header, ordered)
    }

    /// The complete file contents (for small files and tests; `write` streams instead).
    public func serialized(metadata: [String: String] = [:]) throws -> [UInt8] {
        let (prefix, ordered) = try layout(metadata: metadata)
        return ordered.reduce(into: prefix) { out, item in item.withBytes { out.append(contentsOf: $0) } }
    }

    /// Writes the file atomically (`AtomicFile`: a fresh temporary file beside it, then renamed over
    /// `url`). Tensors are written straight from their buffers, so a large file is never assembled in
    /// memory.
    public func write(to url: URL, metadata: [String: String] = [:]) throws {
        let prefix: [UInt8], ordered: [Item]
        do { (prefix, ordered) = try layout(metadata: metadata) } catch {
            throw SafeTensorsError("\(url.path): \(error.description)")
        }
        do {
            try AtomicFile.write(to: url) { file in
                try file.write(prefix)
                for item in ordered { try item.withBytes { try file.write($0) } }
            }
        } catch let error as FileError { throw SafeTensorsError(error.description) }
    }
}
