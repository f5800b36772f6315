import Foundation

/// Attention of n queries over one short sequence of S keys plus a null slot: a learned key and
/// value per head that every query can always attend to (the memory fusion's cross-attention,
/// method.md §5). No causal mask; the sequence's pads are left out by the caller (S = its length).
///
/// q [n, H, d], k and v [S, H, d], nullKey and nullValue [H, d]; probs [n, H, S + 1] keeps the
/// attention weights (the null slot last) for backward. Scores and softmax are float32.
public enum NullSlotAttention {
    /// out [n, H, d] = Σ_p a_p v_p + a_null · nullValue, a = softmax(q·[k; nullKey] / √d).
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        nullKey: UnsafePointer<Float>, nullValue: UnsafePointer<Float>, probs: UnsafeMutablePointer<Float>,
        queries n: Int, keys S: Int, heads H: Int, headDim d: Int
    ) {
        let scale = 1 / Float(d).squareRoot(), HD = H * d
        for t in 0..<n {
            for h in 0..<H {
                let qth = q + t * HD + h * d, a = probs + (t * H + h) * (S + 1), o = out + t * HD + h * d
                for p in 0..<S { a[p] = Vector.dot(qth, k + p * HD + h * d, d) * scale }
                a[S] = Vector.dot(qth, nullKey + h * d, d) * scale
                Softmax.row(a, count: S + 1)
                for i in 0..<d { o[i] = a[S] * nullValue[h * d + i] }
                for p in 0..<S { Vector.axpy(a[p], v + p * HD + h * d, o, d) }
            }
        }
    }

    /// Accumulates dq [n, H, d], dk and dv [S, H, d], dNullKey and dNullValue [H, d] from dOut
    /// [n, H, d] and the saved probs. Per query and head: dA = dO·[v; nullValue],
    /// dS = A ⊙ (dA − Σ A ⊙ dA), dq += scale · dS·[k; nullKey], d[k; nullKey] += scale · dS ⊗ q,
    /// d[v; nullValue] += A ⊗ dO. One thread: every query adds into the same key and value rows.
    public static func backward(
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
        dNullKey: UnsafeMutablePointer<Float>, dNullValue: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        nullKey: UnsafePointer<Float>, nullValue: UnsafePointer<Float>, probs: UnsafePointer<Float>,
        queries n: Int, keys S: Int, heads H: Int, headDim d: Int
    ) {
        let scale = 1 / Float(d).squareRoot(), HD = H * d
        var dS = [Float](repeating: 0, count: S + 1)
        for t in 0..<n {
            for h in 0..<H {
                let a = probs + (t * H + h) * (S + 1), dO = dOut + t * HD + h * d
                let qth = q + t * HD + h * d, dqth = dq + t * HD + h * d
                var dot: Float = 0
                for p in 0..<S {
                    dS[p] = Vector.dot(dO, v + p * HD + h * d, d)
                    dot += dS[p] * a[p]
                }
                dS[S] = Vector.dot(dO, nullValue + h * d, d)
                dot += dS[S] * a[S]
                for p in 0...S { dS[p] = a[p] * (dS[p] - dot) * scale }
                for p in 0..<S {
                    Vector.axpy(a[p], dO, dv + p * HD + h * d, d)
                    Vector.axpy(dS[p], k + p * HD + h * d, dqth, d)
                    Vector.axpy(dS[p], qth, dk + p * HD + h * d, d)
                }
                Vector.axpy(a[S], dO, dNullValue + h * d, d)
                Vector.axpy(dS[S], nullKey + h * d, dqth, d)
                Vector.axpy(dS[S], qth, dNullKey + h * d, d)
            }
        }
    }
}
