import Compute
import Foundation
import XCTest

/// The forward kernels against plain loops in Float64 (their PyTorch parity is covered end to end
/// by Qwen3Tests). Tolerance 1e-5 relative: float32 accumulation over at most a few hundred terms.
final class KernelTests: XCTestCase {
    var rng = SeededGenerator(seed: 7)

    func random(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in Float(rng.normal()) * scale } }

    func assertClose(_ a: [Float], _ b: [Double], tolerance: Double = 1e-5, _ message: String, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, line: line)
        let scale = max(1, b.map(abs).max() ?? 1)
        for i in a.indices where abs(Double(a[i]) - b[i]) > tolerance * scale {
            XCTFail("\(message): element \(i) is \(a[i]), expected \(b[i])", line: line)
            return
        }
    }

    func testStridedGemmMatchesLoops() {
        let m = 5, n = 7, k = 9, lda = 12, ldb = 11, ldc = 10
        let a = random(m * lda), b = random(n * ldb)
        var c = [Float](repeating: 0, count: m * ldc)
        BLAS.gemm(a, b, &c, m: m, n: n, k: k, transB: true, lda: lda, ldb: ldb, ldc: ldc)
        var expected = [Double](repeating: 0, count: m * ldc)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { expected[i * ldc + j] += Double(a[i * lda + p]) * Double(b[j * ldb + p]) } } }
        assertClose(c, expected, "gemm with strides")
    }

    func testLinearWithBiasAndAccumulationOneAndManyRows() {
        for rows in [1, 6] {
            let inF = 33, outF = 17
            let x = random(rows * inF), w = random(outF * inF), bias = random(outF), y0 = random(rows * outF)
            var y = y0
            Linear.forward(&y, x, weight: w, bias: bias, rows: rows, inFeatures: inF, outFeatures: outF, accumulate: true)
            var expected = y0.map(Double.init)
            for r in 0..<rows { for o in 0..<outF {
                expected[r * outF + o] += Double(bias[o])
                for i in 0..<inF { expected[r * outF + o] += Double(x[r * inF + i]) * Double(w[o * inF + i]) }
            } }
            assertClose(y, expected, "linear, \(rows) rows")
        }
    }

    func testRMSNormMatchesDefinition() {
        let rows = 3, dim = 37
        let x = random(rows * dim), w = random(dim)
        var y = [Float](repeating: 0, count: rows * dim)
        RMSNorm.forward(&y, x, weight: w, rows: rows, dim: dim, eps: 1e-6)
        var expected = [Double](repeating: 0, count: rows * dim)
        for r in 0..<rows {
            let ms = (0..<dim).map { Double(x[r * dim + $0]) * Double(x[r * dim + $0]) }.reduce(0, +) / Double(dim)
            for i in 0..<dim { expected[r * dim + i] = Double(w[i]) * Double(x[r * dim + i]) / (ms + 1e-6).squareRoot() }
        }
        assertClose(y, expected, "rmsnorm")
    }

    func testRotaryRotatesSplitHalvesAndInverts() {
        let rope = RotaryEmbedding(headDim: 8, theta: 10_000)
        let tokens = 3, heads = 2
        let x = random(tokens * heads * 8)
        var y = x
        let (cos, sin) = rope.tables(positions: 4..<(4 + tokens))
        rope.apply(&y, cos: cos, sin: sin, tokens: tokens, heads: heads)
        var expected = [Double](repeating: 0, count: x.count)
        for t in 0..<tokens { for h in 0..<heads { for i in 0..<4 {
            let angle = Double(4 + t) * Double(rope.inverseFrequencies[i])
            let base = (t * heads + h) * 8
            let a = Double(x[base + i]), b = Double(x[base + i + 4])
            expected[base + i] = a * Foundation.cos(angle) - b * Foundation.sin(angle)
            expected[base + i + 4] = b * Foundation.cos(angle) + a * Foundation.sin(angle)
        } } }
        assertClose(y, expected, tolerance: 1e-4, "rotary")
        rope.apply(&y, cos: cos, sin: sin, tokens: tokens, heads: heads, sign: -1)
        assertClose(y, x.map(Double.init), tolerance: 1e-5, "inverse rotary")
    }

    /// Tiny heads, heads in blocks on the workers (each block its own weights buffer), and heads too
    /// large for that (T·S·d > Attention.headsOnWorkers: one after another, each product split).
    func testCausalGroupedAttentionMatchesLoops() {
        for (T, S, heads, kvHeads, d) in [(3, 5, 4, 2, 6), (40, 60, 8, 2, 16), (1030, 1040, 2, 1, 16)] {
            checkAttention(T: T, S: S, heads: heads, kvHeads: kvHeads, d: d)
        }
    }

    func checkAttention(T: Int, S: Int, heads: Int, kvHeads: Int, d: Int) {
        let q = random(T * heads * d), k = random(S * kvHeads * d), v = random(S * kvHeads * d)
        var out = [Float](repeating: 0, count: T * heads * d)
        var scratch = [Float](repeating: 0, count: T * S)
        Attention.forward(&out, q: q, k: k, v: v, scratch: &scratch, queries: T, keys: S, heads: heads, kvHeads: kvHeads, headDim: d)
        var expected = [Double](repeating: 0, count: out.count)
        for t in 0..<T { for h in 0..<heads {
            let g = h / (heads / kvHeads), visible = S - T + t + 1
            let qRow = (t * heads + h) * d
            var scores = [Double](repeating: 0, count: visible)
            for s in 0..<visible {
                let kRow = (s * kvHeads + g) * d
                var dot = 0.0
                for i in 0..<d { dot += Double(q[qRow + i]) * Double(k[kRow + i]) }
                scores[s] = dot / Double(d).squareRoot()
            }
            let m = scores.max()!
            scores = scores.map { Foundation.exp($0 - m) }
            let z = scores.reduce(0, +)
            for s in 0..<visible {
                let vRow = (s * kvHeads + g) * d
                for i in 0..<d { expected[qRow + i] += scores[s] / z * Double(v[vRow + i]) }
            }
        } }
        assertClose(out, expected, "attention T \(T) S \(S) heads \(heads)")
    }
}
