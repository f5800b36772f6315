import Foundation

/// Softmax over one row, in place, float32 with the maximum subtracted first (as PyTorch).
public enum Softmax {
    /// p[0..<count] ← softmax(p[0..<count]).
    @inline(__always)
    public static func row(_ p: UnsafeMutablePointer<Float>, count: Int) {
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
    }
}
