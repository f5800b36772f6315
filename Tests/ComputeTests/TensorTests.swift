import Compute
import XCTest

/// Tensor buffers: small ones from calloc, 4 MB to 1 GB from a mapping of their own, aligned for
/// huge pages; both start zero and hold what is written to their last element.
final class TensorTests: XCTestCase {
    func testBuffersOfEverySizeStartZeroAndHoldTheirValues() {
        for count in [0, 1, 1000, (4 << 20) / 4 - 1, (4 << 20) / 4, (6 << 20) / 4 + 3] {
            for _ in 0..<3 {  // again, so that a reused buffer must be cleared too
                let t = Tensor(zeros: [count])
                XCTAssertTrue(t.buffer.allSatisfy { $0 == 0 }, "\(count) floats")
                if count > 0 {
                    t.data[count - 1] = 7
                    XCTAssertEqual(t.data[count - 1], 7)
                }
                if count * 4 >= 4 << 20 {
                    XCTAssertEqual(Int(bitPattern: t.data) % (2 << 20), 0, "a mapped buffer starts on a huge page")
                }
            }
        }
    }
}
