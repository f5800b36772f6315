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

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        // calloc: a large buffer comes straight from the kernel already zero, so it is not written
        // twice (a 256-token prefill's [256, 151936] logits are 155 MB); small ones are cleared.
        guard let raw = calloc(max(count, 1), MemoryLayout<Float>.stride) else {
            fatalError("cannot allocate a tensor of shape \(shape)")
        }
        self.data = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.owner = nil
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
    }

    deinit {
        if owner == nil { free(data) }
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
