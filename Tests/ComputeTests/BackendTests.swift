import Compute
import XCTest

/// The backend seam's products against a double-precision reference, on every instruction set the
/// host has (the portable path forced as a CPU without AVX-512 or AVX2 would run it), with both
/// transposes, leading dimensions wider than the matrices, beta = 0 over NaN, sizes that split over
/// the workers and sizes that do not fill a microkernel tile, bfloat16 weights, and OpenBLAS on the
/// same work. Tolerance per entry: 1e-5 · Σ_k |a||b| (float32 accumulation, any order).
final class BackendTests: XCTestCase {
    var savedKind = Backend.kind, savedISA = Backend.instructionSet, savedCompute = Backend.compute

    override func setUp() {
        savedKind = Backend.kind
        savedISA = Backend.instructionSet
        savedCompute = Backend.compute
    }

    override func tearDown() {
        Backend.kind = savedKind
        Backend.instructionSet = savedISA
        Backend.compute = savedCompute
    }

    /// The instruction sets to test: all up to the host's.
    var instructionSets: [Backend.InstructionSet] {
        let all = Backend.InstructionSet.allCases
        return Array(all[...all.firstIndex(of: Backend.hostInstructionSet)!])
    }

    struct Case { let m, n, k: Int; let transA, transB: Bool; let alpha, beta: Float }

    static let cases: [Case] = {
        var list: [Case] = []
        for (m, n, k) in [(1, 1, 1), (3, 7, 5), (17, 33, 15), (16, 32, 64), (65, 63, 129), (1, 300, 257), (257, 1, 31), (0, 5, 3), (4, 0, 3), (5, 6, 0)] {
            for transA in [false, true] {
                for transB in [false, true] { list.append(Case(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 1, beta: 0)) }
            }
        }
        list.append(Case(m: 33, n: 70, k: 40, transA: false, transB: true, alpha: 0.5, beta: -0.25))
        list.append(Case(m: 40, n: 17, k: 9, transA: true, transB: false, alpha: 1, beta: 1))
        // Large enough to split over the workers, by columns and by rows.
        list.append(Case(m: 96, n: 1000, k: 128, transA: false, transB: true, alpha: 1, beta: 0))
        list.append(Case(m: 700, n: 48, k: 256, transA: true, transB: false, alpha: 1, beta: 1))
        return list
    }()

    func testGEMMMatchesTheReferenceOnEveryInstructionSetAndOpenBLAS() {
        for isa in instructionSets {
            Backend.kind = .own
            Backend.instructionSet = isa
            XCTAssertEqual(Backend.instructionSet, isa)
            for (i, c) in Self.cases.enumerated() { check(c, seed: UInt64(i), bfloat16: false, label: "\(isa)") }
            for (i, c) in Self.cases.enumerated() { check(c, seed: UInt64(100 + i), bfloat16: true, label: "\(isa) bf16") }
        }
        Backend.kind = .openblas
        for (i, c) in Self.cases.enumerated() { check(c, seed: UInt64(i), bfloat16: false, label: "openblas") }
    }

    func testGEMVMatchesTheReferenceOnEveryInstructionSet() {
        for isa in instructionSets {
            Backend.kind = .own
            Backend.instructionSet = isa
            for (m, n) in [(1, 1), (7, 13), (33, 100), (3000, 257), (16, 1024)] {
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, -0.25)] {
                    for bfloat16 in [false, true] {
                        var rng = TestRandom(UInt64(m * 31 + n))
                        let a = rng.tensor([m, n]), x = rng.tensor([n]), y0 = rng.tensor([m])
                        let bits = bfloat16 ? roundToBFloat16(a) : []
                        let y = y0.copy()
                        if beta == 0 { y.fill(.nan) }
                        if bfloat16 {
                            bits.withUnsafeBufferPointer { Backend.gemv(bfloat16: $0.baseAddress!, x.data, y.data, m: m, n: n, alpha: alpha, beta: beta) }
                        } else {
                            Backend.gemv(a.data, x.data, y.data, m: m, n: n, alpha: alpha, beta: beta)
                        }
                        for r in 0..<m {
                            var sum = 0.0, bound = 0.0
                            for j in 0..<n {
                                sum += Double(a.data[r * n + j]) * Double(x.data[j])
                                bound += abs(Double(a.data[r * n + j]) * Double(x.data[j]))
                            }
                            let expected = Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(y0.data[r]))
                            XCTAssertEqual(Double(y.data[r]), expected, accuracy: 1e-5 * bound + 1e-6 * abs(expected) + 1e-30,
                                           "\(isa) gemv \(m)×\(n) bf16 \(bfloat16) row \(r)")
                        }
                    }
                }
            }
        }
    }

    /// bf16 compute rounds op(A) to bfloat16 exactly where CKernels.h says (A stored [m,k], more than one
    /// row and column, not the few-rows kernel), so the reference is the double product on the rounded
    /// activations, at float32 tolerance: a kernel that skipped the rounding would miss by ~2^-9
    /// relative. Below AVX-512, or on a CPU without AVX-512 BF16, asking for it leaves products float32.
    func testBF16ComputeMatchesTheReferenceOnRoundedActivations() {
        Backend.kind = .own
        for isa in instructionSets {
            Backend.instructionSet = isa
            Backend.compute = .bf16
            let takesEffect = isa == .avx512 && Backend.hostHasBF16Compute
            XCTAssertEqual(Backend.compute, takesEffect ? .bf16 : .f32, "\(isa)")
            for (i, c) in Self.cases.enumerated() {
                let rounds = takesEffect && !c.transA && c.m > 1 && c.n > 1 && !(c.transB && c.m <= 24)
                check(c, seed: UInt64(200 + i), bfloat16: true, roundsA: rounds, label: "\(isa) bf16 compute")
            }
            // A prompt-sized product cut into column blocks that share one packing of A.
            let c = Case(m: 40, n: 2000, k: 301, transA: false, transB: true, alpha: 1, beta: 0)
            check(c, seed: 7, bfloat16: true, roundsA: takesEffect, label: "\(isa) bf16 compute, column blocks")
        }
    }

    /// A product inside a parallel loop runs on that loop's thread (no nested dispatch) and is still right.
    func testProductsInsideAParallelLoopStayCorrect() {
        Backend.kind = .own
        let items = 8, m = 64, n = 256, k = 96
        var rng = TestRandom(9)
        let a = rng.tensor([items, m, k]), b = rng.tensor([n, k]), c = Tensor(zeros: [items, m, n]), serial = Tensor(zeros: [items, m, n])
        for i in 0..<items { Backend.gemm(a.data + i * m * k, b.data, serial.data + i * m * n, m: m, n: n, k: k, transB: true) }
        Parallel.forEach(items) { i in Backend.gemm(a.data + i * m * k, b.data, c.data + i * m * n, m: m, n: n, k: k, transB: true) }
        XCTAssertEqual(c.array, serial.array, "the same kernel on the same blocks gives the same bits")
    }

    // MARK: helpers

    /// The values rounded to bfloat16, nearest even as the hardware rounds (returned as bits), and `t`
    /// overwritten with their widened values.
    func roundToBFloat16(_ t: Tensor) -> [UInt16] {
        (0..<t.count).map { i in
            let u = t.data[i].bitPattern
            let bits = UInt16(truncatingIfNeeded: (u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16)
            t.data[i] = Float(bitPattern: UInt32(bits) << 16)
            return bits
        }
    }

    /// `roundsA`: the reference reads op(A) rounded to bfloat16 as bf16 compute does (nearest even,
    /// denormals as zero).
    func check(_ c: Case, seed: UInt64, bfloat16: Bool, roundsA: Bool = false, label: String, file: StaticString = #filePath,
               line: UInt = #line) {
        var rng = TestRandom(seed &+ 1)
        let lda = (c.transA ? c.m : c.k) + 3, ldb = (c.transB ? c.k : c.n) + 5, ldc = c.n + 2
        let aRows = c.transA ? c.k : c.m, bRows = c.transB ? c.n : c.k
        let a = rng.tensor([max(aRows, 1), lda]), b = rng.tensor([max(bRows, 1), ldb]), c0 = rng.tensor([max(c.m, 1), ldc])
        let bits = bfloat16 ? roundToBFloat16(b) : []
        let out = c0.copy()
        if c.beta == 0 { for r in 0..<c.m { for j in 0..<c.n { out.data[r * ldc + j] = .nan } } }
        if bfloat16 {
            bits.withUnsafeBufferPointer {
                Backend.gemm(a.data, bfloat16: $0.baseAddress!, out.data, m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB,
                             alpha: c.alpha, beta: c.beta, lda: lda, ldb: ldb, ldc: ldc)
            }
        } else {
            Backend.gemm(a.data, b.data, out.data, m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB,
                         alpha: c.alpha, beta: c.beta, lda: lda, ldb: ldb, ldc: ldc)
        }
        if roundsA {
            for i in 0..<a.count { a.data[i] = abs(a.data[i]) < Float.leastNormalMagnitude ? 0 : a.data[i] }
            _ = roundToBFloat16(a)
        }
        var worst = 0.0
        for r in 0..<c.m {
            for j in 0..<c.n {
                var sum = 0.0, bound = 0.0
                for p in 0..<c.k {
                    let x = Double(c.transA ? a.data[p * lda + r] : a.data[r * lda + p])
                    let y = Double(c.transB ? b.data[j * ldb + p] : b.data[p * ldb + j])
                    sum += x * y
                    bound += abs(x * y)
                }
                let expected = Double(c.alpha) * sum + (c.beta == 0 ? 0 : Double(c.beta) * Double(c0.data[r * ldc + j]))
                let error = abs(Double(out.data[r * ldc + j]) - expected)
                let allowed = 1e-5 * bound + 1e-6 * abs(expected) + 1e-30
                if !(error <= allowed) {
                    XCTFail("\(label) \(c) entry (\(r), \(j)): \(out.data[r * ldc + j]) vs \(expected)", file: file, line: line)
                    return
                }
                worst = max(worst, error / allowed)
            }
            // Past the n columns C is untouched (ldc > n).
            if c.n > 0, out.data[r * ldc + c.n] != c0.data[r * ldc + c.n] {
                XCTFail("\(label) \(c): wrote past column n in row \(r)", file: file, line: line)
                return
            }
        }
    }
}
