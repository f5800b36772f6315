import Compute
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes float32 tensors straight from their buffers to disk, in exactly the layout of
/// `SafeTensorsWriter`, without building the file in memory: training checkpoints (weights and two
/// optimizer moments) can be several times the model's size. Atomic as `SafeTensorsWriter.write`
/// (`name.tmp-<pid>`, fsync, rename), so an interrupted save leaves the previous file.
public struct SafeTensorsStreamWriter {
    private enum Payload {
        case floats(Tensor)
        case bytes([UInt8])
    }
    private struct Item {
        let name: String
        let dtype: SafeTensorsDType
        let shape: [Int]
        let payload: Payload
        var byteCount: Int { shape.reduce(1, *) * dtype.byteSize }
    }
    private var items: [Item] = []
    private var names: Set<String> = []
    private var problems: [String] = []

    public init() {}

    /// Adds a float32 tensor; its buffer is read when `write` runs, so it must stay alive till then.
    public mutating func add(_ name: String, _ tensor: Tensor) {
        insert(Item(name: name, dtype: .f32, shape: tensor.shape, payload: .floats(tensor)))
    }

    public mutating func add(_ name: String, int64s: [Int64], shape: [Int]) {
        guard shape.reduce(1, *) == int64s.count else {
            problems.append("tensor \"\(name)\": shape \(shape) does not hold \(int64s.count) values"); return
        }
        insert(Item(name: name, dtype: .i64, shape: shape, payload: .bytes(int64s.withUnsafeBytes { Array($0) })))
    }

    private mutating func insert(_ item: Item) {
        if item.name == "__metadata__" { problems.append("tensor \"\(item.name)\": the name is reserved"); return }
        guard names.insert(item.name).inserted else { problems.append("tensor \"\(item.name)\" added twice"); return }
        items.append(item)
    }

    /// The header bytes (length prefix included) and the items in file order.
    private func layout(metadata: [String: String]) -> (header: [UInt8], ordered: [Item]) {
        let ordered = items.sorted { ($0.dtype.layoutRank, $1.name) > ($1.dtype.layoutRank, $0.name) }
        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(jsonQuoted($0.key)):\(jsonQuoted($0.value))" }
            parts.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for item in ordered {
            let end = offset + item.byteCount
            parts.append("\(jsonQuoted(item.name)):{\"dtype\":\"\(item.dtype.rawValue)\",\"shape\":[\(item.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var json = Array("{\(parts.joined(separator: ","))}".utf8)
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var header: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { header.append(contentsOf: $0) }
        header.append(contentsOf: json)
        return (header, ordered)
    }

    public func write(to url: URL, metadata: [String: String] = [:]) throws {
        if let problem = problems.first { throw SafeTensorsError("\(url.path): \(problem)") }
        let (header, ordered) = layout(metadata: metadata)
        let tmp = url.path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        func fail(_ what: String) -> SafeTensorsError {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            return SafeTensorsError("\(url.path): \(what): \(reason)")
        }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("cannot create \(URL(fileURLWithPath: tmp).lastPathComponent)") }
        var ok = header.withUnsafeBytes { writeAll(fd, $0.baseAddress!, $0.count) }
        for item in ordered where ok {
            switch item.payload {
            case .floats(let t): ok = writeAll(fd, UnsafeRawPointer(t.data), item.byteCount)
            case .bytes(let b): ok = b.withUnsafeBytes { b.isEmpty || writeAll(fd, $0.baseAddress!, $0.count) }
            }
        }
        // The data reaches the disk before the rename makes it the checkpoint.
        guard ok, fsync(fd) == 0 else { close(fd); throw fail("cannot write") }
        guard close(fd) == 0 else { throw fail("cannot close") }
        guard rename(tmp, url.path) == 0 else { throw fail("cannot rename the temporary file into place") }
    }

    private func writeAll(_ fd: Int32, _ p: UnsafeRawPointer, _ count: Int) -> Bool {
        var done = 0
        while done < count {
            let n = Glibc.write(fd, p + done, min(count - done, 1 << 30))
            if n < 0 { if errno == EINTR { continue }; return false }
            done += n
        }
        return true
    }
}
