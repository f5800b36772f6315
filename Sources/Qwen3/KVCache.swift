import Compute

/// Keys (after q/k-norm and rotary embedding) and values of every position seen so far, per layer.
/// Grows by doubling when a forward pass needs more room.
public final class KVCache: @unchecked Sendable {
    public private(set) var length = 0
    public private(set) var capacity: Int
    let width: Int  // kv heads × head_dim
    private(set) var keys: [Tensor]
    private(set) var values: [Tensor]

    public init(config: Qwen3Config, capacity: Int = 256) {
        self.capacity = max(capacity, 1)
        width = config.numKeyValueHeads * config.headDim
        keys = (0..<config.numHiddenLayers).map { _ in Tensor(zeros: [max(capacity, 1), config.numKeyValueHeads * config.headDim]) }
        values = keys.map { Tensor(zeros: $0.shape) }
    }

    /// Makes room for `count` more positions.
    func reserve(_ count: Int) {
        guard length + count > capacity else { return }
        var newCapacity = capacity
        while newCapacity < length + count { newCapacity *= 2 }
        func grow(_ t: Tensor) -> Tensor {
            let g = Tensor(zeros: [newCapacity, width])
            g.data.update(from: t.data, count: length * width)
            return g
        }
        keys = keys.map(grow)
        values = values.map(grow)
        capacity = newCapacity
    }

    /// Marks `count` positions written by every layer.
    func advance(_ count: Int) { length += count }

    /// Forgets everything after the first `length` positions.
    public func truncate(to length: Int) { self.length = min(self.length, max(0, length)) }
}
