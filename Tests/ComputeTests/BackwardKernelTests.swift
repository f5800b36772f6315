import Compute
import XCTest

/// Each kernel's backward against central differences of its forward, on its own. The loss is
/// L = Σ r ⊙ forward(...) for a random r, so dOut = r. Backward functions accumulate, so each test
/// starts the gradient buffers at a known non-zero value and subtracts it again.
final class BackwardKernelTests: XCTestCase {
    func testEmbeddingBackwardScatterAddsRepeatedIds() {
        var rng = TestRandom(1)
        let V = 7, D = 5, ids: [Int32] = [3, 1, 3, 6]
        let table = rng.tensor([V, D]), r = rng.tensor([ids.count, D])
        let out = Tensor(zeros: [ids.count, D])
        func loss() -> Double {
            Embedding.forward(out.data, table: table.data, ids: ids, tokens: ids.count, dim: D)
            return weightedSum(out, r)
        }
        let dTable = Tensor(zeros: [V, D])
        Embedding.backward(dTable: dTable.data, dOut: r.data, ids: ids, tokens: ids.count, dim: D)
        checkGradient("dTable", table, analytic: dTable, coordinates: 12, loss: loss)
        XCTAssertEqual(dTable.data[3 * D], r.data[0] + r.data[2 * D], accuracy: 1e-6, "id 3 appears twice")
    }

    func testRMSNormBackward() {
        var rng = TestRandom(2)
        let rows = 6, D = 20, eps: Float = 1e-6
        let x = rng.tensor([rows, D], scale: 2), w = rng.tensor([D]), r = rng.tensor([rows, D])
        let y = Tensor(zeros: [rows, D]), rstd = Tensor(zeros: [rows])
        func loss() -> Double {
            RMSNorm.forward(y.data, x.data, weight: w.data, rows: rows, dim: D, eps: eps)
            return weightedSum(y, r)
        }
        RMSNorm.forward(y.data, x.data, weight: w.data, rstd: rstd.data, rows: rows, dim: D, eps: eps)
        let dx = Tensor(zeros: [rows, D]), dw = Tensor(zeros: [D])
        dx.fill(0.5); dw.fill(0.25)
        RMSNorm.backward(dInp: dx.data, dWeight: dw.data, dOut: r.data, inp: x.data, weight: w.data, rstd: rstd.data, rows: rows, dim: D)
        for i in 0..<dx.count { dx.data[i] -= 0.5 }
        for i in 0..<dw.count { dw.data[i] -= 0.25 }
        checkGradient("dx", x, analytic: dx, loss: loss)
        checkGradient("dweight", w, analytic: dw, loss: loss)
    }

    func testLayerNormBackward() {
        var rng = TestRandom(21)
        let rows = 5, D = 24, eps: Float = 1e-5
        let x = rng.tensor([rows, D], scale: 3), w = rng.tensor([D]), b = rng.tensor([D]), r = rng.tensor([rows, D])
        for i in 0..<D { x.data[i] += 7 }  // a row with a large mean
        let y = Tensor(zeros: [rows, D])
        func loss() -> Double {
            LayerNorm.forward(y.data, x.data, weight: w.data, bias: b.data, rows: rows, dim: D, eps: eps)
            return weightedSum(y, r)
        }
        let dx = Tensor(zeros: [rows, D]), dw = Tensor(zeros: [D]), db = Tensor(zeros: [D])
        dx.fill(0.5); dw.fill(0.25); db.fill(-0.5)
        LayerNorm.backward(dInp: dx.data, dWeight: dw.data, dBias: db.data, dOut: r.data, inp: x.data, weight: w.data, rows: rows, dim: D, eps: eps)
        for i in 0..<dx.count { dx.data[i] -= 0.5 }
        for i in 0..<D { dw.data[i] -= 0.25; db.data[i] += 0.5 }
        checkGradient("dx", x, analytic: dx, loss: loss)
        checkGradient("dweight", w, analytic: dw, loss: loss)
        checkGradient("dbias", b, analytic: db, loss: loss)
    }

    func testGELUBackward() {
        var rng = TestRandom(22)
        let n = 37  // two SIMD blocks and a tail
        let x = rng.tensor([n], scale: 4), r = rng.tensor([n])
        let y = Tensor(zeros: [n])
        func loss() -> Double {
            y.data.update(from: x.data, count: n)
            GELU.forward(y.data, count: n)
            return weightedSum(y, r)
        }
        let dx = Tensor(zeros: [n])
        dx.fill(0.5)
        GELU.backward(dx.data, dOut: r.data, inp: x.data, count: n)
        for i in 0..<n { dx.data[i] -= 0.5 }
        checkGradient("dx", x, analytic: dx, coordinates: 20, loss: loss)
    }

    func testRotaryBackwardIsTheInverseRotation() {
        var rng = TestRandom(3)
        let T = 5, H = 3, d = 8
        let rotary = RotaryEmbedding(headDim: d, theta: 10_000)
        let (cos, sin) = rotary.tables(positions: 2..<(2 + T))
        let x = rng.tensor([T, H, d]), r = rng.tensor([T, H, d])
        let y = Tensor(zeros: [T, H, d])
        func loss() -> Double {
            y.data.update(from: x.data, count: x.count)
            rotary.apply(y.data, cos: cos, sin: sin, tokens: T, heads: H)
            return weightedSum(y, r)
        }
        let dx = r.copy()
        rotary.backward(dx.data, cos: cos, sin: sin, tokens: T, heads: H)
        checkGradient("dx", x, analytic: dx, loss: loss)
    }

    func testGroupedQueryAttentionBackwardWithPastKeys() {
        var rng = TestRandom(4)
        let T = 4, S = 6, Hq = 4, Hkv = 2, d = 8
        let q = rng.tensor([T, Hq, d]), k = rng.tensor([S, Hkv, d]), v = rng.tensor([S, Hkv, d])
        let r = rng.tensor([T, Hq, d])
        let out = Tensor(zeros: [T, Hq, d]), probs = Tensor(zeros: [Hq, T, S]), scratch = Tensor(zeros: [T, S])
        func loss() -> Double {
            Attention.forward(out.data, q: q.data, k: k.data, v: v.data, scratch: scratch.data,
                              queries: T, keys: S, heads: Hq, kvHeads: Hkv, headDim: d)
            return weightedSum(out, r)
        }
        let stats = Tensor(zeros: [Hq, T, 2]), weights = Tensor(zeros: [T, S])
        Attention.forward(out.data, q: q.data, k: k.data, v: v.data, probs: probs.data, softmaxStats: stats.data,
                          scratch: scratch.data, queries: T, keys: S, heads: Hq, kvHeads: Hkv, headDim: d)
        func backward(_ source: Attention.Weights) -> [Tensor] {
            let dq = Tensor(zeros: q.shape), dk = Tensor(zeros: k.shape), dv = Tensor(zeros: v.shape)
            Attention.backward(dq: dq.data, dk: dk.data, dv: dv.data, dOut: r.data, q: q.data, k: k.data, v: v.data,
                               weights: source, scratch: scratch.data, queries: T, keys: S, heads: Hq, kvHeads: Hkv, headDim: d)
            return [dq, dk, dv]
        }
        let kept = backward(.kept(probs.data))
        checkGradient("dq", q, analytic: kept[0], coordinates: 12, loss: loss)
        checkGradient("dk", k, analytic: kept[1], coordinates: 12, loss: loss)
        checkGradient("dv", v, analytic: kept[2], coordinates: 12, loss: loss)
        // The last key is visible to the last query only, and still gets a gradient.
        XCTAssertNotEqual(kept[2].data[(S - 1) * Hkv * d], 0, "the last key is read by the last query")
        // Weights recomputed from the softmax statistics: the same bits as the kept ones.
        let recomputed = backward(.recomputed(softmaxStats: stats.data, scratch: weights.data))
        for (name, (a, b)) in zip(["dq", "dk", "dv"], zip(kept, recomputed)) { XCTAssertEqual(a.array, b.array, name) }
    }

    func testSwiGLUBackward() {
        var rng = TestRandom(5)
        let n = 40
        let gate = rng.tensor([n], scale: 3), up = rng.tensor([n]), r = rng.tensor([n])
        let out = Tensor(zeros: [n])
        func loss() -> Double {
            SwiGLU.forward(out.data, gate: gate.data, up: up.data, count: n)
            return weightedSum(out, r)
        }
        let dGate = Tensor(zeros: [n]), dUp = Tensor(zeros: [n])
        SwiGLU.backward(dGate: dGate.data, dUp: dUp.data, dOut: r.data, gate: gate.data, up: up.data, count: n)
        checkGradient("dgate", gate, analytic: dGate, coordinates: 12, loss: loss)
        checkGradient("dup", up, analytic: dUp, coordinates: 12, loss: loss)
    }

    func testLinearBackwardAccumulatesAndSkipsWhatIsNotAsked() {
        var rng = TestRandom(6)
        let rows = 5, inF = 7, outF = 3
        let x = rng.tensor([rows, inF]), w = rng.tensor([outF, inF]), b = rng.tensor([outF]), r = rng.tensor([rows, outF])
        let y = Tensor(zeros: [rows, outF])
        func loss() -> Double {
            Linear.forward(y.data, x.data, weight: w.data, bias: b.data, rows: rows, inFeatures: inF, outFeatures: outF)
            return weightedSum(y, r)
        }
        let dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape), db = Tensor(zeros: b.shape)
        Linear.backward(dX: dx.data, dWeight: dw.data, dBias: db.data, dY: r.data, x: x.data, weight: w.data,
                        rows: rows, inFeatures: inF, outFeatures: outF)
        checkGradient("dX", x, analytic: dx, loss: loss)
        checkGradient("dW", w, analytic: dw, loss: loss)
        checkGradient("db", b, analytic: db, loss: loss)
        // A second call adds the same again; without dX only the weight gradients move.
        let before = dx.array
        Linear.backward(dX: nil, dWeight: dw.data, dBias: nil, dY: r.data, x: x.data, weight: w.data,
                        rows: rows, inFeatures: inF, outFeatures: outF)
        XCTAssertEqual(dx.array, before)
        let once = Tensor(zeros: w.shape)
        Linear.backward(dX: nil, dWeight: once.data, dBias: nil, dY: r.data, x: x.data, weight: w.data,
                        rows: rows, inFeatures: inF, outFeatures: outF)
        for i in 0..<dw.count { XCTAssertEqual(dw.data[i], 2 * once.data[i], accuracy: 1e-5) }
    }

    func testCrossEntropySumsTokenLossesAndIgnoresMaskedRows() {
        var rng = TestRandom(7)
        let rows = 4, V = 11
        let logits = rng.tensor([rows, V], scale: 4)
        let targets: [Int32] = [2, CrossEntropy.ignoreIndex, 10, 0]
        // Reference loss in Double, straight from the definition.
        var expected = 0.0
        for rIndex in 0..<rows where targets[rIndex] != CrossEntropy.ignoreIndex {
            let z = (0..<V).map { Double(logits.data[rIndex * V + $0]) }
            expected += log(z.map { exp($0) }.reduce(0, +)) - z[Int(targets[rIndex])]
        }
        func loss() -> Double {
            CrossEntropy.forwardBackward(logits: logits.data, targets: targets, dLogits: nil, rows: rows, vocab: V).lossSum
        }
        let result = CrossEntropy.forwardBackward(logits: logits.data, targets: targets, dLogits: nil, rows: rows, vocab: V)
        XCTAssertEqual(result.tokens, 3)
        XCTAssertEqual(result.lossSum, expected, accuracy: 1e-4 * expected)
        let dLogits = Tensor(zeros: [rows, V])
        _ = CrossEntropy.forwardBackward(logits: logits.data, targets: targets, dLogits: dLogits.data, rows: rows, vocab: V)
        checkGradient("dlogits", logits, analytic: dLogits, coordinates: 16, loss: loss)
        XCTAssertTrue((0..<V).allSatisfy { dLogits.data[V + $0] == 0 }, "the ignored row gets no gradient")
        // scale multiplies the gradient (callers normalise over the optimizer step with it).
        let half = Tensor(zeros: [rows, V])
        _ = CrossEntropy.forwardBackward(logits: logits.data, targets: targets, dLogits: half.data, rows: rows, vocab: V, scale: 0.5)
        for i in 0..<half.count { XCTAssertEqual(half.data[i], 0.5 * dLogits.data[i], accuracy: 1e-7) }
    }
}

/// The vectorised exp that the cross-entropy uses, against libm.
final class VectorExpTests: XCTestCase {
    func testVectorExpMatchesLibmWithinAFewUlps() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let lanes = Vector.V((0..<16).map { x + Float($0) * 0.0137 })
            let ours = Vector.exp(lanes)
            for i in 0..<16 {
                let exact = expf(lanes[i])
                worst = max(worst, abs(ours[i] - exact) / exact)
            }
            x += 0.2113
        }
        XCTAssertLessThan(worst, 1e-6, "largest relative error \(worst)")
        XCTAssertEqual(Vector.exp(Vector.V(repeating: -.infinity))[0], 0, accuracy: 1e-37)
        XCTAssertTrue(Vector.exp(Vector.V(repeating: 200))[0].isFinite, "large inputs saturate instead of overflowing")
    }
}
