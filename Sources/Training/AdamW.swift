import Compute

/// One trainable tensor with its gradient, under its checkpoint name.
public typealias NamedParameter = (name: String, value: Tensor, grad: Tensor)

/// `torch.optim.AdamW` (single-tensor path, amsgrad off, maximize off), step for step:
///   p ← p·(1 − lr·wd);  m ← m + (1−β₁)(g − m);  v ← v·β₂ + (1−β₂)·g·g
///   p ← p − (lr/(1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps)
/// Scalars are formed in double and applied in float32 as torch does. Two parameter groups:
/// tensors of two or more dimensions get `weightDecay`, 1-D tensors (norms, biases) none.
/// The moments are flat buffers keyed by parameter name, created zero on first use.
public final class AdamW {
    public let beta1: Double, beta2: Double, eps: Double, weightDecay: Double
    /// Optimizer steps taken (torch's per-parameter `step`, equal for every parameter here).
    public internal(set) var step: Int = 0
    /// First moments (`exp_avg`) by parameter name.
    public internal(set) var expAvg: [String: Tensor] = [:]
    /// Second moments (`exp_avg_sq`) by parameter name.
    public internal(set) var expAvgSq: [String: Tensor] = [:]

    public init(beta1: Double = 0.9, beta2: Double = 0.95, eps: Double = 1e-8, weightDecay: Double = 0.1) {
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
    }

    /// Whether a tensor is in the decayed group: two or more dimensions.
    public static func decays(_ tensor: Tensor) -> Bool { tensor.rank >= 2 }

    /// Sets the moments and the step, e.g. from a checkpoint.
    public func restore(step: Int, expAvg: [String: Tensor], expAvgSq: [String: Tensor]) {
        self.step = step; self.expAvg = expAvg; self.expAvgSq = expAvgSq
    }

    /// One optimizer step at learning rate `lr` over every parameter. Each gradient element is first
    /// multiplied by `gradientScale` (the clipping factor: the same float product torch's in-place
    /// `grad.mul_` makes, without a separate pass; the gradient buffers are left as they were).
    public func update(_ parameters: [NamedParameter], lr: Double, gradientScale: Float = 1) {
        step += 1
        let t = Double(step)
        let bias1 = 1 - pow(beta1, t), bias2 = 1 - pow(beta2, t)
        let stepSize = Float(-(lr / bias1))
        let bias2Sqrt = Float(bias2.squareRoot())
        let oneMinusBeta1 = Float(1 - beta1), b2 = Float(beta2), oneMinusBeta2 = Float(1 - beta2)
        let epsF = Float(eps)
        for (name, p, g) in parameters {
            precondition(p.shape == g.shape, "AdamW: gradient of \(name) has shape \(g.shape), parameter \(p.shape)")
            let m = moment(&expAvg, name, p.shape), v = moment(&expAvgSq, name, p.shape)
            let decay = Float(1 - lr * (Self.decays(p) ? weightDecay : 0))
            let pd = p.data, gd = g.data, md = m.data, vd = v.data
            // The same float operations in the same order as torch, 16 lanes at a time (no fused
            // multiply-adds, so the lanes round exactly as the scalar tail does).
            typealias V = Vector.V
            let sv = V(repeating: gradientScale), dv = V(repeating: decay), b1v = V(repeating: oneMinusBeta1)
            let b2v = V(repeating: b2), ob2v = V(repeating: oneMinusBeta2), bcv = V(repeating: bias2Sqrt)
            let ev = V(repeating: epsF), stv = V(repeating: stepSize)
            Parallel.forChunks(p.count / 16, grain: 1 << 11) { range in
                for c in range {
                    let i = 16 * c
                    let gi = Vector.load(gd + i) * sv
                    let mOld = Vector.load(md + i)
                    let mi = mOld + b1v * (gi - mOld)                      // lerp with weight < 0.5
                    let vi = Vector.load(vd + i) * b2v + (ob2v * gi) * gi  // addcmul
                    let denom = vi.squareRoot() / bcv + ev
                    let pi = Vector.load(pd + i) * dv + (stv * mi) / denom  // addcdiv
                    Vector.store(mi, md + i); Vector.store(vi, vd + i); Vector.store(pi, pd + i)
                }
            }
            for i in (p.count / 16 * 16)..<p.count {
                let gi = gd[i] * gradientScale
                let mi = md[i] + oneMinusBeta1 * (gi - md[i])
                let vi = vd[i] * b2 + (oneMinusBeta2 * gi) * gi
                let denom = vi.squareRoot() / bias2Sqrt + epsF
                md[i] = mi; vd[i] = vi; pd[i] = pd[i] * decay + (stepSize * mi) / denom
            }
        }
    }

    private func moment(_ table: inout [String: Tensor], _ name: String, _ shape: [Int]) -> Tensor {
        if let t = table[name] { return t }
        let t = Tensor(zeros: shape)
        table[name] = t
        return t
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
