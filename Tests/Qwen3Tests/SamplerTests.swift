import Compute
import Qwen3
import XCTest

/// Sampling filters on synthetic logits: draws stay inside the top-k / top-p set and reach all of it.
final class SamplerTests: XCTestCase {
    func logits(_ vocab: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<vocab).map { _ in Float(rng.normal()) * 3 }
    }

    func draws(_ sampler: inout Sampler, _ logits: [Float], count: Int = 400) -> Set<Int32> {
        logits.withUnsafeBufferPointer { p in Set((0..<count).map { _ in sampler.next(p.baseAddress!, vocab: p.count) }) }
    }

    func testTopKDrawsOnlyAndAllOfTheKBest() {
        let l = logits(5000, seed: 1)
        let best = Set((0..<l.count).sorted { l[$0] > l[$1] }.prefix(4).map(Int32.init))
        var sampler = Sampler(temperature: 50, topK: 4, seed: 2)  // hot: the four are near-uniform
        XCTAssertEqual(draws(&sampler, l), best)
    }

    func testTiesKeepIndexOrderAndTopPKeepsTheSmallestSet() {
        var l = [Float](repeating: 0, count: 100)
        l[70] = 5; l[30] = 5; l[10] = 4
        var topOne = Sampler(temperature: 1, topK: 1, seed: 3)
        XCTAssertEqual(draws(&topOne, l), [30], "a tie goes to the lower index")
        // p(30) = p(70) ≈ 0.33 each at temperature 1: top-p 0.5 needs both, 0.3 only the first.
        var half = Sampler(temperature: 1, topP: 0.5, seed: 4)
        XCTAssertEqual(draws(&half, l), [30, 70])
        var third = Sampler(temperature: 1, topP: 0.3, seed: 5)
        XCTAssertEqual(draws(&third, l), [30])
    }

    func testUnfilteredSamplingFollowsTheDistribution() {
        let l: [Float] = [0, log(3)]  // p = 1/4, 3/4
        var sampler = Sampler(temperature: 1, seed: 6)
        let n = 20_000
        let ones = l.withUnsafeBufferPointer { p in (0..<n).filter { _ in sampler.next(p.baseAddress!, vocab: 2) == 1 }.count }
        XCTAssertEqual(Double(ones) / Double(n), 0.75, accuracy: 0.02)
    }
}
