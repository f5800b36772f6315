import Compute
import XCTest

/// Deterministic pseudo-random floats for tests.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1  // in [-1, 1)
    }
    mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        let t = Tensor(zeros: shape)
        for i in 0..<t.count { t.data[i] = scale * next() }
        return t
    }
}

/// Checks an analytic gradient against float32 central differences of a scalar loss on a few
/// coordinates. With ε = 1e-2 the truncation error is O(ε²) and the float32 rounding of the loss
/// O(1e-7/ε); the tolerance 2e-3·max(1, |g|) covers both and still catches a wrong formula.
func checkGradient(
    _ label: String, _ x: Tensor, analytic: Tensor, coordinates: Int = 8, epsilon: Float = 1e-2,
    tolerance: Double = 2e-3, loss: () -> Double, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(x.count, analytic.count, label, file: file, line: line)
    var rng = TestRandom(UInt64(x.count) &* 7919 &+ 17)
    for n in 0..<coordinates {
        let i = n == 0 ? 0 : Int(abs(rng.next()) * Float(x.count - 1))
        let saved = x.data[i]
        x.data[i] = saved + epsilon
        let plus = loss()
        x.data[i] = saved - epsilon
        let minus = loss()
        x.data[i] = saved
        let numeric = (plus - minus) / (2 * Double(epsilon))
        let exact = Double(analytic.data[i])
        XCTAssertLessThanOrEqual(abs(numeric - exact), tolerance * max(1, abs(exact)),
                                 "\(label)[\(i)]: analytic \(exact), finite difference \(numeric)", file: file, line: line)
    }
}

/// L = Σ r ⊙ y in Double: the scalar whose gradient with respect to y is r.
func weightedSum(_ y: Tensor, _ r: Tensor) -> Double {
    var s = 0.0
    for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
    return s
}
