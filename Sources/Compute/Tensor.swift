import Foundation

/// A dense float32 tensor: a shape and one flat, row-major buffer.
///
/// The buffer is either owned (allocated and freed here) or borrowed from an owner that keeps it
/// alive, such as a memory-mapped safetensors file. Kernels work on `data` directly.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>
    /// Keeps borrowed memory alive; nil when the buffer is owned.
    private let owner: AnyObject?
    /// An owned buffer of `hugePageRange` bytes is a mapping of its own (unmapped here).
    private let mapping: (base: UnsafeMutableRawPointer, length: Int)?

    /// Buffers from 4 MB to 1 GB are mapped anonymously and asked for transparent huge pages: first
    /// writes to a fresh buffer fault a page at a time, and a 256-token prefill's [256, 151936] logits
    /// (155 MB) take 38,000 4 KB faults, several per cent of the prefill, against 78 of 2 MB. Larger
    /// ones (a whole model's gradients or optimizer moments) stay on plain pages: the kernel compacts
    /// memory to find huge pages, and that many at once stalled a model load for seconds (see
    /// SafeTensors' FloatBuffer).
    static let hugePageRange = (4 << 20)...(1 << 30)
    private static let hugePage = 2 << 20

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.owner = nil
        let bytes = count * MemoryLayout<Float>.stride
        if Self.hugePageRange.contains(bytes) {
            // A fresh mapping is zero already; one spare huge page lets the buffer start on a 2 MB boundary.
            let length = bytes + Self.hugePage
            guard let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else {
                fatalError("cannot allocate a tensor of shape \(shape)")
            }
            let start = base.alignedUp(toMultipleOf: Self.hugePage)
            _ = madvise(start, bytes, MADV_HUGEPAGE)  // a hint: without huge pages the buffer works the same
            self.mapping = (base, length)
            self.data = start.bindMemory(to: Float.self, capacity: count)
            return
        }
        // calloc: a buffer from the kernel is not written twice; small ones are cleared.
        guard let raw = calloc(max(count, 1), MemoryLayout<Float>.stride) else {
            fatalError("cannot allocate a tensor of shape \(shape)")
        }
        self.mapping = nil
        self.data = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// A tensor holding a copy of `values`.
    public convenience init(shape: [Int], values: [Float]) {
        self.init(zeros: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// A view of memory that `owner` keeps alive (no copy).
    public init(shape: [Int], borrowing pointer: UnsafeMutablePointer<Float>, owner: AnyObject) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.data = pointer
        self.owner = owner
        self.mapping = nil
    }

    deinit {
        if let mapping { munmap(mapping.base, mapping.length) } else if owner == nil { free(data) }
    }

    public var rank: Int { shape.count }

    /// The values as an array (for tests and output, not for hot paths).
    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }

    /// Pointer to row `i` of a tensor seen as [shape[0], rest].
    @inline(__always) public func row(_ i: Int) -> UnsafeMutablePointer<Float> {
        data + i * (count / shape[0])
    }

    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    /// A deep copy with its own buffer.
    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        t.data.update(from: data, count: count)
        return t
    }
}
