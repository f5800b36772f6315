import Foundation

/// Softmax over one row, in place, float32 with the maximum subtracted first (as PyTorch).
public enum Softmax {
    /// p[0..<count] ← softmax(p[0..<count]). Returns the row's maximum and 1 / Σ exp, from which
    /// `recompute` gives the same bits again.
    @inline(__always) @discardableResult
    public static func row(_ p: UnsafeMutablePointer<Float>, count: Int) -> (max: Float, inverseSum: Float) {
        var m = -Float.infinity
        for s in 0..<count { m = max(m, p[s]) }
        var sum: Float = 0
        for s in 0..<count {
            let e = expf(p[s] - m)
            p[s] = e
            sum += e
        }
        let inv = 1 / sum
        for s in 0..<count { p[s] *= inv }
        return (m, inv)
    }

    /// p[0..<count] ← softmax(p[0..<count]) from the `max` and `inverseSum` that `row` returned for
    /// the same values: the same operations, so the same bits, without the two reductions.
    @inline(__always)
    public static func recompute(_ p: UnsafeMutablePointer<Float>, count: Int, max m: Float, inverseSum inv: Float) {
        for s in 0..<count { p[s] = expf(p[s] - m) * inv }
    }
}
