import Compute

/// GatedMemoryFusion's body (method.md §5): writes u [n, D] for n query rows m = MemoryNorm(h) [n, D]
/// that read one bank entry X [len, D] (the embeddings of its tokens, pads left out).
public protocol MemoryFusion: AnyObject {
    /// u [n, D] (written, not accumulated). Returns what `backward` needs.
    func forward(_ u: UnsafeMutablePointer<Float>, m: UnsafePointer<Float>, rows n: Int, entry: Tensor) -> FusionSaved
    /// dm [n, D] += d(u)/d(m)ᵀ du; the weight gradients accumulate (the entry is frozen).
    func backward(dm: UnsafeMutablePointer<Float>, du: UnsafePointer<Float>, m: UnsafePointer<Float>, rows n: Int,
                  entry: Tensor, saved: FusionSaved)
    /// Every trainable tensor, named as §11 names it after `prefix` (`memory.layers.ℓ.fusion`).
    func parameters(_ prefix: String) -> [MemoryParameter]
}

/// The activations a fusion keeps from forward for backward.
public protocol FusionSaved: AnyObject {}
