import Compute

/// The `cross_attention` fusion (method.md §5, §11 step 3): for an entry x_0 … x_{len−1},
/// k_p = W_k [E(x_p); E(x_{p−1})] + position_p (E(x_{−1}) = 0), v_p = W_v E(x_p), q_t = W_q m_t;
/// H heads of width dh attend over the entry's positions and an always-attendable null slot;
/// u_t = W_o concat_h o_{t,h}. No biases; W_o (or its b factor) is zero at init.
public final class CrossAttentionFusion: MemoryFusion {
    public let hidden: Int, heads: Int, headDim: Int, knowledgeLength: Int
    public let qProj: MemoryLinear, kProj: MemoryLinear, vProj: MemoryLinear, oProj: MemoryLinear
    /// [L_k, H·dh], [H, dh], [H, dh]
    public let position: Tensor, nullKey: Tensor, nullValue: Tensor
    let positionGradient: Tensor, nullKeyGradient: Tensor, nullValueGradient: Tensor

    public init(hidden D: Int, heads H: Int, headDim dh: Int, knowledgeLength: Int, rank: Int) {
        hidden = D; heads = H; headDim = dh; self.knowledgeLength = knowledgeLength
        let HD = H * dh
        qProj = MemoryLinear(inFeatures: D, outFeatures: HD, rank: rank)
        kProj = MemoryLinear(inFeatures: 2 * D, outFeatures: HD, rank: rank)
        vProj = MemoryLinear(inFeatures: D, outFeatures: HD, rank: rank)
        oProj = MemoryLinear(inFeatures: HD, outFeatures: D, rank: rank)
        position = Tensor(zeros: [knowledgeLength, HD]); positionGradient = Tensor(zeros: [knowledgeLength, HD])
        nullKey = Tensor(zeros: [H, dh]); nullKeyGradient = Tensor(zeros: [H, dh])
        nullValue = Tensor(zeros: [H, dh]); nullValueGradient = Tensor(zeros: [H, dh])
    }

    public func parameters(_ prefix: String) -> [MemoryParameter] {
        qProj.parameters("\(prefix).q_proj") + kProj.parameters("\(prefix).k_proj") + vProj.parameters("\(prefix).v_proj")
            + oProj.parameters("\(prefix).o_proj")
            + [("\(prefix).position", position, positionGradient), ("\(prefix).null_key", nullKey, nullKeyGradient),
               ("\(prefix).null_value", nullValue, nullValueGradient)]
    }

    /// The entry's keys and values (with the key input [E(x_p); E(x_{p−1})] their backward reads).
    final class Entry: FusionEntry {
        let length: Int
        let keyInput, k, v: Tensor
        init(length S: Int, hidden D: Int, width HD: Int) {
            length = S
            keyInput = Tensor(zeros: [S, 2 * D]); k = Tensor(zeros: [S, HD]); v = Tensor(zeros: [S, HD])
        }
    }

    final class Saved: FusionSaved {
        let entry: Entry
        let q, probs, attention: Tensor
        init(rows n: Int, entry: Entry, width HD: Int, heads H: Int) {
            self.entry = entry
            q = Tensor(zeros: [n, HD]); probs = Tensor(zeros: [n, H, entry.length + 1]); attention = Tensor(zeros: [n, HD])
        }
    }

    public func prepare(entry: Tensor) -> FusionEntry {
        let S = entry.shape[0], D = hidden, HD = heads * headDim
        precondition(S >= 1 && S <= knowledgeLength, "entry of \(S) tokens for knowledge_length \(knowledgeLength)")
        let e = Entry(length: S, hidden: D, width: HD)
        for p in 0..<S {
            (e.keyInput.data + p * 2 * D).update(from: entry.data + p * D, count: D)
            if p > 0 { (e.keyInput.data + p * 2 * D + D).update(from: entry.data + (p - 1) * D, count: D) }
        }
        kProj.forward(e.k.data, e.keyInput.data, rows: S)
        Vector.add(position.data, into: e.k.data, S * HD)
        vProj.forward(e.v.data, entry.data, rows: S)
        return e
    }

    public func forward(_ u: UnsafeMutablePointer<Float>, m: UnsafePointer<Float>, rows n: Int, entry: FusionEntry) -> FusionSaved {
        let e = entry as! Entry
        let s = Saved(rows: n, entry: e, width: heads * headDim, heads: heads)
        qProj.forward(s.q.data, m, rows: n)
        NullSlotAttention.forward(s.attention.data, q: s.q.data, k: e.k.data, v: e.v.data, nullKey: nullKey.data,
                                  nullValue: nullValue.data, probs: s.probs.data, queries: n, keys: e.length, heads: heads, headDim: headDim)
        oProj.forward(u, s.attention.data, rows: n)
        return s
    }

    public func backward(dm: UnsafeMutablePointer<Float>, du: UnsafePointer<Float>, m: UnsafePointer<Float>, rows n: Int,
                         entry: Tensor, saved: FusionSaved) {
        let s = saved as! Saved, e = s.entry
        let S = e.length, HD = heads * headDim
        let dAttention = Tensor(zeros: [n, HD]), dq = Tensor(zeros: [n, HD]), dk = Tensor(zeros: [S, HD]), dv = Tensor(zeros: [S, HD])
        oProj.backward(dX: dAttention.data, dY: du, x: s.attention.data, rows: n)
        NullSlotAttention.backward(dq: dq.data, dk: dk.data, dv: dv.data, dNullKey: nullKeyGradient.data,
                                   dNullValue: nullValueGradient.data, dOut: dAttention.data, q: s.q.data, k: e.k.data,
                                   v: e.v.data, nullKey: nullKey.data, nullValue: nullValue.data, probs: s.probs.data,
                                   queries: n, keys: S, heads: heads, headDim: headDim)
        Vector.add(dk.data, into: positionGradient.data, S * HD)
        kProj.backward(dX: nil, dY: dk.data, x: e.keyInput.data, rows: S)
        vProj.backward(dX: nil, dY: dv.data, x: entry.data, rows: S)
        qProj.backward(dX: dm, dY: dq.data, x: m, rows: n)
    }
}
