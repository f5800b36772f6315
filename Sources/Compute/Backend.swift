import CKernels
import Foundation

/// The backend seam: every matrix product of the compute core is chosen here, and nowhere else.
///
/// Two CPU backends: `own` (the default) runs this package's GEMM/GEMV kernels (CKernels: packed,
/// blocked, AVX-512 or AVX2+FMA microkernels chosen at run time, a portable C path), split over our
/// Dispatch workers; `openblas` calls OpenBLAS (threaded by OpenBLAS), kept for comparison.
/// bfloat16 weights always go through the own kernels, which widen them while packing (OpenBLAS
/// has no such product). A GPU backend would be a third case here.
///
/// `EXPLICITLM_BACKEND` (own | openblas) picks the backend, `EXPLICITLM_ISA` (portable | avx2 |
/// avx512) caps the instruction set and `EXPLICITLM_COMPUTE` (f32 | bf16) picks the arithmetic of
/// products with bfloat16 weights, once at start; tests and benchmarks may set all three.
public enum Backend {
    public enum Kind: String, Sendable, CaseIterable { case own, openblas }

    public enum InstructionSet: String, Sendable, CaseIterable {
        case portable, avx2, avx512
        var level: Int32 { Int32(Self.allCases.firstIndex(of: self)!) }
    }

    nonisolated(unsafe) public static var kind: Kind = setting("EXPLICITLM_BACKEND", default: Kind.own)

    /// The best instruction set the CPU supports.
    public static var hostInstructionSet: InstructionSet { InstructionSet.allCases[Int(elm_host_isa())] }

    /// The instruction set the own kernels use; setting it is clamped to the host's (one binary never
    /// executes an instruction its CPU lacks). Set it before running kernels on several threads.
    public static var instructionSet: InstructionSet {
        get { _ = configured; return InstructionSet.allCases[Int(elm_active_isa())] }
        set { _ = configured; elm_set_isa(newValue.level) }
    }

    /// The arithmetic of products whose B is bfloat16 (a BF16 checkpoint's weights). `f32` (the
    /// default): the weights are widened exactly and products and sums are float32. `bf16`: products
    /// of more than a few rows round the activations to bfloat16 and multiply bf16 pairs into float32
    /// sums (AVX-512 BF16's VDPBF16PS, twice the float32 FMA rate; see CKernels.h for exactly which).
    public enum Compute: String, Sendable, CaseIterable { case f32, bf16 }

    /// Whether this CPU can run `bf16` compute (AVX-512 BF16).
    public static var hostHasBF16Compute: Bool { elm_host_bf16() != 0 }

    /// The arithmetic in effect: setting `bf16` takes effect only where the CPU has AVX-512 BF16 and
    /// the AVX-512 kernels are active, so reading it back says what products actually do. Set it
    /// before running kernels on several threads.
    public static var compute: Compute {
        get { _ = configured; return elm_active_compute() == Int32(ELM_COMPUTE_BF16) ? .bf16 : .f32 }
        set { _ = configured; elm_set_compute(Int32(newValue == .bf16 ? ELM_COMPUTE_BF16 : ELM_COMPUTE_F32)) }
    }

    private static let configured: Void = {
        let environment = ProcessInfo.processInfo.environment
        if environment["EXPLICITLM_ISA"] != nil {
            elm_set_isa(setting("EXPLICITLM_ISA", default: hostInstructionSet).level)
        }
        if environment["EXPLICITLM_COMPUTE"] != nil, setting("EXPLICITLM_COMPUTE", default: Compute.f32) == .bf16 {
            elm_set_compute(Int32(ELM_COMPUTE_BF16))
        }
    }()

    /// The environment variable `name` as one of `Value`'s cases; an unknown value is named on stderr
    /// (the process still runs, with `fallback`).
    private static func setting<Value: RawRepresentable & CaseIterable>(_ name: String, default fallback: Value) -> Value
        where Value.RawValue == String
    {
        guard let text = ProcessInfo.processInfo.environment[name] else { return fallback }
        if let value = Value(rawValue: text) { return value }
        let known = Value.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("explicitlm: \(name)=\(text) is not one of \(known); using \(fallback.rawValue)\n".utf8))
        return fallback
    }

    /// Below this many multiply-adds a product runs on the calling thread: a dispatch to the workers
    /// costs microseconds.
    static let parallelWork = 1 << 20

    // MARK: GEMM

    /// C[m,n] = alpha · op(A) · op(B) + beta · C, row-major, with op(A) [m,k] and op(B) [k,n].
    /// `transA`/`transB` say that A is stored [k,m] / B is stored [n,k]. beta = 0 never reads C.
    @inline(__always)
    public static func gemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
        alpha: Float = 1, beta: Float = 0, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n), ldc = ldc ?? n
        if kind == .openblas {
            BLAS.gemm(a, b, c, m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: ldc)
            return
        }
        blocks(elm_sgemm, elm_sgemm_packed_a, a, b, c, m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha, beta: beta,
               lda: lda, ldb: ldb, ldc: ldc)
    }

    /// The same product with B in bfloat16 (a `WeightMatrix`'s values), widened inside the kernel.
    @inline(__always)
    public static func gemm(
        _ a: UnsafePointer<Float>, bfloat16 b: UnsafePointer<UInt16>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
        alpha: Float = 1, beta: Float = 0, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n), ldc = ldc ?? n
        blocks(elm_sgemm_bf16b, elm_sgemm_bf16b_packed_a, a, b, c, m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha,
               beta: beta, lda: lda, ldb: ldb, ldc: ldc)
    }

    /// A CKernels GEMM entry point (single-threaded, B of element type `Element`).
    typealias Kernel<Element> = (Int32, Int32, Int, Int, Int, Float, UnsafePointer<Float>?, Int, UnsafePointer<Element>?, Int, Float,
                                 UnsafeMutablePointer<Float>?, Int) -> Void

    /// A CKernels GEMM entry point on op(A) packed by `elm_pack_a_shared` (opaque: its layout depends on
    /// B's element type and the compute mode).
    typealias PackedKernel<Element> = (Int32, Int32, Int, Int, Int, Float, UnsafeRawPointer?, UnsafePointer<Element>?, Int,
                                       Float, UnsafeMutablePointer<Float>?, Int) -> Void

    /// Runs `kernel` on the blocks `split` cuts the product into, each with its offsets into A, B and C.
    /// Column blocks share one packing of op(A) (`packedKernel`), made here before they start.
    @inline(__always)
    static func blocks<Element>(
        _ kernel: Kernel<Element>, _ packedKernel: PackedKernel<Element>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Element>,
        _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float, beta: Float, lda: Int, ldb: Int, ldc: Int
    ) {
        _ = configured
        let (tA, tB): (Int32, Int32) = (transA ? 1 : 0, transB ? 1 : 0)
        let bfloat16B: Int32 = Element.self == UInt16.self ? 1 : 0
        if splitsColumns(m: m, n: n), let packed = elm_pack_a_shared(bfloat16B, tA, tB, m, n, k, alpha, a, lda) {
            split(m: m, n: n, k: k) { _, _, c0, c1 in
                packedKernel(tA, tB, m, c1 - c0, k, alpha, packed, b + (transB ? c0 * ldb : c0), ldb, beta, c + c0, ldc)
            }
            return
        }
        split(m: m, n: n, k: k) { r0, r1, c0, c1 in
            kernel(transA ? 1 : 0, transB ? 1 : 0, r1 - r0, c1 - c0, k, alpha,
                   a + (transA ? r0 : r0 * lda), lda, b + (transB ? c0 * ldb : c0), ldb, beta, c + r0 * ldc + c0, ldc)
        }
    }

    // MARK: GEMV

    /// y[m] = alpha · A[m,n] · x[n] + beta · y.
    @inline(__always)
    public static func gemv(
        _ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        m: Int, n: Int, alpha: Float = 1, beta: Float = 0
    ) {
        if kind == .openblas {
            BLAS.gemv(a, x, y, m: m, n: n, alpha: alpha, beta: beta)
            return
        }
        _ = configured
        split(m: m, n: 1, k: n) { r0, r1, _, _ in elm_sgemv(r1 - r0, n, alpha, a + r0 * n, n, x, beta, y + r0) }
    }

    /// y[m] = alpha · A[m,n] · x[n] + beta · y with A in bfloat16.
    @inline(__always)
    public static func gemv(
        bfloat16 a: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        m: Int, n: Int, alpha: Float = 1, beta: Float = 0
    ) {
        _ = configured
        split(m: m, n: 1, k: n) { r0, r1, _, _ in elm_sgemv_bf16(r1 - r0, n, alpha, a + r0 * n, n, x, beta, y + r0) }
    }

    // MARK: threads

    /// Blocks of a product per worker: finer than one, so that a core taken by another process
    /// slows the product by its share, not by half (row blocks pack their own rows of A; column
    /// blocks share one packing of it).
    static let blocksPerWorker = 3

    /// Whether `split` cuts an [m, n] output into column blocks (it cuts along the longer side).
    @inline(__always)
    static func splitsColumns(m: Int, n: Int) -> Bool { n >= m }

    /// Runs `body(r0, r1, c0, c1)` over blocks of the output [m, n] on the workers: along the
    /// longer side, in whole microkernel panels, or on the calling thread for small products.
    @inline(__always)
    static func split(m: Int, n: Int, k: Int, _ body: (Int, Int, Int, Int) -> Void) {
        guard m > 0, n > 0 else {
            body(0, m, 0, n)
            return
        }
        let work = m * n * max(k, 1)
        guard work >= parallelWork, Parallel.workers > 1 else {
            body(0, m, 0, n)
            return
        }
        if splitsColumns(m: m, n: n) {
            let panel = 64, panels = (n + panel - 1) / panel
            Parallel.forChunks(panels, chunksPerWorker: blocksPerWorker) { range in
                body(0, m, range.lowerBound * panel, min(n, range.upperBound * panel))
            }
        } else {
            let panel = 16, panels = (m + panel - 1) / panel
            Parallel.forChunks(panels, chunksPerWorker: blocksPerWorker) { range in
                body(range.lowerBound * panel, min(m, range.upperBound * panel), 0, n)
            }
        }
    }
}
