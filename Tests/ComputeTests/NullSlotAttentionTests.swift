import Compute
import XCTest

/// The memory fusion's attention with a null slot, against central differences of its forward
/// (the memory parity tests check it against PyTorch inside the whole step).
final class NullSlotAttentionTests: XCTestCase {
    func testBackwardOfEveryInput() {
        var rng = TestRandom(21)
        let n = 5, S = 3, H = 2, d = 4
        let q = rng.tensor([n, H, d], scale: 2), k = rng.tensor([S, H, d], scale: 2), v = rng.tensor([S, H, d])
        let nullKey = rng.tensor([H, d], scale: 2), nullValue = rng.tensor([H, d]), r = rng.tensor([n, H, d])
        let out = Tensor(zeros: [n, H, d]), probs = Tensor(zeros: [n, H, S + 1])
        func loss() -> Double {
            NullSlotAttention.forward(out.data, q: q.data, k: k.data, v: v.data, nullKey: nullKey.data, nullValue: nullValue.data,
                                      probs: probs.data, queries: n, keys: S, heads: H, headDim: d)
            return weightedSum(out, r)
        }
        _ = loss()
        for row in 0..<(n * H) {  // each row of attention weights sums to 1 over the keys and the null slot
            XCTAssertEqual((0...S).reduce(Float(0)) { $0 + probs.data[row * (S + 1) + $1] }, 1, accuracy: 1e-6)
        }
        let grads = [q, k, v, nullKey, nullValue].map { Tensor(zeros: $0.shape) }
        NullSlotAttention.backward(dq: grads[0].data, dk: grads[1].data, dv: grads[2].data, dNullKey: grads[3].data,
                                   dNullValue: grads[4].data, dOut: r.data, q: q.data, k: k.data, v: v.data,
                                   nullKey: nullKey.data, nullValue: nullValue.data, probs: probs.data,
                                   queries: n, keys: S, heads: H, headDim: d)
        let inputs = [("dq", q), ("dk", k), ("dv", v), ("dNullKey", nullKey), ("dNullValue", nullValue)]
        for ((label, x), g) in zip(inputs, grads) {
            checkGradient(label, x, analytic: g, coordinates: 10, loss: loss)
        }
    }
}
