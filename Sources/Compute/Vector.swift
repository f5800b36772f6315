/// Small SIMD primitives over raw float buffers, shared by the kernels.
public enum Vector {
    public typealias V = SIMD16<Float>

    /// Σ a[i]·b[i].
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= n {
            acc.addProduct(load(a + i), load(b + i))
            i += 16
        }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Σ a[i]².
    @inline(__always)
    public static func sumOfSquares(_ a: UnsafePointer<Float>, _ n: Int) -> Float { dot(a, a, n) }

    /// Σ a[i].
    @inline(__always)
    public static func sum(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= n { acc += load(a + i); i += 16 }
        var s = acc.sum()
        while i < n { s += a[i]; i += 1 }
        return s
    }

    /// y[i] += alpha·x[i].
    @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let a = V(repeating: alpha)
        var i = 0
        while i + 16 <= n {
            var v = load(y + i)
            v.addProduct(a, load(x + i))
            store(v, y + i)
            i += 16
        }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }

    /// y[i] += x[i].
    @inline(__always)
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 16 <= n { store(load(y + i) + load(x + i), y + i); i += 16 }
        while i < n { y[i] += x[i]; i += 1 }
    }

    /// The first index of the largest element (ties go to the lowest index, as torch.argmax).
    @inline(__always)
    public static func argmax(_ a: UnsafePointer<Float>, _ n: Int) -> Int {
        var best = 0
        for i in 1..<max(n, 1) where a[i] > a[best] { best = i }
        return best
    }

    /// e^x per lane, Cephes' single-precision method (range reduction by ln 2, degree-6 polynomial),
    /// relative error about 1e-7; x is clamped to the float range, so exp(−inf) = 0 and no lane
    /// overflows. Vectorised, unlike one libm call per element.
    @inline(__always)
    public static func exp(_ x: V) -> V {
        // Rounding through the magic number 1.5·2²³ (whose ulp is 1) instead of SIMD `rounded` and
        // an Int32 conversion, which are generic and slow in Swift.
        let magic = V(repeating: 12_582_912)
        // Clamps by lane selection: `pointwiseMin/Max` compile to scalar loops here.
        var x = x.replacing(with: 88.37, where: x .> 88.37)
        x.replace(with: -87.3, where: x .< -87.3)
        let t = x * 1.442_695_04 + magic
        let n = t - magic  // round(x / ln 2)
        x = x - n * 0.693_359_375
        x = x - n * -2.121_944_4e-4
        let z = x * x
        var y = V(repeating: 1.987_569_15e-4)
        y = y * x + 1.398_199_95e-3
        y = y * x + 8.333_451_9e-3
        y = y * x + 4.166_579_59e-2
        y = y * x + 1.666_666_55e-1
        y = y * x + 5.000_000_12e-1
        y = y * z + x + 1
        let k = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000  // n as an integer
        return y * unsafeBitCast((k &+ 127) &<< 23, to: V.self)
    }

    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) public static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }
}
