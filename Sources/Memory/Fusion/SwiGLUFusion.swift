import Compute

/// The reference `swiglu` fusion (method.md §5): x_t = [m_t ; M] with M the mean of the entry's
/// token embeddings; u_t = W_down(SiLU(W_gate x_t) ⊙ W_up x_t), W_down (or its b factor) zero at init.
public final class SwiGLUFusion: MemoryFusion {
    public let hidden: Int, intermediate: Int
    public let gateProj: MemoryLinear, upProj: MemoryLinear, downProj: MemoryLinear

    public init(hidden D: Int, intermediate F: Int, rank: Int) {
        hidden = D; intermediate = F
        gateProj = MemoryLinear(inFeatures: 2 * D, outFeatures: F, rank: rank)
        upProj = MemoryLinear(inFeatures: 2 * D, outFeatures: F, rank: rank)
        downProj = MemoryLinear(inFeatures: F, outFeatures: D, rank: rank)
    }

    public func parameters(_ prefix: String) -> [MemoryParameter] {
        gateProj.parameters("\(prefix).gate_proj") + upProj.parameters("\(prefix).up_proj") + downProj.parameters("\(prefix).down_proj")
    }

    final class Saved: FusionSaved {
        let x, gate, up, act: Tensor
        init(rows n: Int, hidden D: Int, intermediate F: Int) {
            x = Tensor(zeros: [n, 2 * D]); gate = Tensor(zeros: [n, F]); up = Tensor(zeros: [n, F]); act = Tensor(zeros: [n, F])
        }
    }

    /// The entry's mean token embedding M.
    final class Entry: FusionEntry {
        let mean: [Float]
        init(mean: [Float]) { self.mean = mean }
    }

    public func prepare(entry: Tensor) -> FusionEntry {
        let D = hidden, S = entry.shape[0]
        var mean = [Float](repeating: 0, count: D)
        for p in 0..<S { for i in 0..<D { mean[i] += entry.data[p * D + i] } }
        for i in 0..<D { mean[i] /= Float(S) }
        return Entry(mean: mean)
    }

    public func forward(_ u: UnsafeMutablePointer<Float>, m: UnsafePointer<Float>, rows n: Int, entry: FusionEntry) -> FusionSaved {
        let D = hidden, F = intermediate, mean = (entry as! Entry).mean
        let s = Saved(rows: n, hidden: D, intermediate: F)
        for t in 0..<n {
            (s.x.data + t * 2 * D).update(from: m + t * D, count: D)
            mean.withUnsafeBufferPointer { (s.x.data + t * 2 * D + D).update(from: $0.baseAddress!, count: D) }
        }
        gateProj.forward(s.gate.data, s.x.data, rows: n)
        upProj.forward(s.up.data, s.x.data, rows: n)
        SwiGLU.forward(s.act.data, gate: s.gate.data, up: s.up.data, count: n * F)
        downProj.forward(u, s.act.data, rows: n)
        return s
    }

    public func backward(dm: UnsafeMutablePointer<Float>, du: UnsafePointer<Float>, m: UnsafePointer<Float>, rows n: Int,
                         entry: Tensor, saved: FusionSaved) {
        let s = saved as! Saved
        let D = hidden, F = intermediate
        let dAct = Tensor(zeros: [n, F]), dGate = Tensor(zeros: [n, F]), dUp = Tensor(zeros: [n, F]), dx = Tensor(zeros: [n, 2 * D])
        downProj.backward(dX: dAct.data, dY: du, x: s.act.data, rows: n)
        SwiGLU.backward(dGate: dGate.data, dUp: dUp.data, dOut: dAct.data, gate: s.gate.data, up: s.up.data, count: n * F)
        gateProj.backward(dX: dx.data, dY: dGate.data, x: s.x.data, rows: n)
        upProj.backward(dX: dx.data, dY: dUp.data, x: s.x.data, rows: n)
        for t in 0..<n { Vector.add(dx.data + t * 2 * D, into: dm + t * D, D) }  // the entry half is frozen
    }
}
