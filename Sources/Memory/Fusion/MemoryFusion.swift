import Compute

/// GatedMemoryFusion's body (method.md §5): writes u [n, D] for n query rows m = MemoryNorm(h) [n, D]
/// that read one bank entry X [len, D] (the embeddings of its tokens, pads left out).
public protocol MemoryFusion: AnyObject {
    /// What `forward` computes from the entry alone, the same for every row that reads it: a
    /// generation's memory steps keep it from one decoded token to the next (while the weights stay).
    func prepare(entry: Tensor) -> FusionEntry
    /// u [n, D] (written, not accumulated). Returns what `backward` needs.
    func forward(_ u: UnsafeMutablePointer<Float>, m: UnsafePointer<Float>, rows n: Int, entry: FusionEntry) -> FusionSaved
    /// dm [n, D] += d(u)/d(m)ᵀ du; the weight gradients accumulate (the entry is frozen).
    func backward(dm: UnsafeMutablePointer<Float>, du: UnsafePointer<Float>, m: UnsafePointer<Float>, rows n: Int,
                  entry: Tensor, saved: FusionSaved)
    /// Every trainable tensor, named as §11 names it after `prefix` (`memory.layers.ℓ.fusion`).
    func parameters(_ prefix: String) -> [MemoryParameter]
}

extension MemoryFusion {
    /// `forward` on an entry prepared for this call only.
    public func forward(_ u: UnsafeMutablePointer<Float>, m: UnsafePointer<Float>, rows n: Int, entry: Tensor) -> FusionSaved {
        forward(u, m: m, rows: n, entry: prepare(entry: entry))
    }
}

/// The activations a fusion keeps from forward for backward.
public protocol FusionSaved: AnyObject {}

/// A fusion's entry-only work (see `MemoryFusion.prepare`).
public protocol FusionEntry: AnyObject {}
