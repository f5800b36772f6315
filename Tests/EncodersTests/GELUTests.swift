import Compute
import Foundation
import SafeTensors
import XCTest

/// The vectorised exact-form GELU against torch.nn.functional.gelu in float64 (gelu-golden.safetensors):
/// 6807 points on [−12, 12], random ones, ±0, tiny and huge values. Tolerance 3e-7·max(1, |x|)
/// (the erf approximation is within 1.5e-7 of erf; PyTorch's float32 CPU kernel is ~1e-6 off here).
final class GELUTests: XCTestCase {
    func testMatchesPyTorch() throws {
        let file = try SafeTensorsFile(url: EncoderFixtures.directory.appendingPathComponent("gelu-golden.safetensors"))
        let x = try file.tensor("x"), expected = try file.tensor("y")
        let y = x.copy()
        GELU.forward(y.data, count: y.count)  // count is not a multiple of 16: the tail path runs too
        var worst: Float = 0, at = 0
        for i in 0..<x.count {
            let d = abs(y.data[i] - expected.data[i]) / max(1, abs(x.data[i]))
            if !(d <= worst) { worst = d; at = i }
        }
        XCTAssertLessThan(worst, 3e-7, "gelu(\(x.data[at])) = \(y.data[at]), torch \(expected.data[at])")
    }
}
