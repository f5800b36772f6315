import CBLAS

/// OpenBLAS, the comparison backend behind `Backend` (EXPLICITLM_BACKEND=openblas); only `Backend`
/// calls it. All matrices are row-major float32.
public enum BLAS {
    /// C[m,n] = alpha · op(A) · op(B) + beta · C, with op(A) [m,k] and op(B) [k,n].
    /// `transA`/`transB` say that A is stored [k,m] / B is stored [n,k].
    @inline(__always)
    public static func gemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
        alpha: Float = 1, beta: Float = 0,
        lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(lda ?? (transA ? m : k)),
            b, Int32(ldb ?? (transB ? k : n)), beta,
            c, Int32(ldc ?? n))
    }

    /// y[m] = alpha · A[m,n] · x[n] + beta · y.
    @inline(__always)
    public static func gemv(
        _ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        m: Int, n: Int, alpha: Float = 1, beta: Float = 0
    ) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(n), x, 1, beta, y, 1)
    }

    /// The number of threads OpenBLAS uses.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}
