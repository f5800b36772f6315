import Compute
import Foundation
import Qwen3
import XCTest

/// Two forward passes at once (as a server runs them) give what each gives alone, and leave
/// OpenBLAS's thread count as they found it: no kernel flips process-wide BLAS state mid-pass.
final class ConcurrentForwardTests: XCTestCase {
    func testTwoForwardsInParallelEqualOneAtATime() throws {
        // Two kv groups, so the attention kernel splits its work over the workers; 150 tokens span
        // three causal blocks.
        let model = try Qwen3Model.load(directory: Fixtures.directory("untied-gqa-bf16"))
        var rng = SeededGenerator(seed: 7)
        let V = UInt64(model.config.vocabSize)
        let inputs: [[Int32]] = (0..<2).map { _ in (0..<150).map { _ in Int32(rng.next() % V) } }
        let alone = inputs.map { model.forward($0, cache: KVCache(config: model.config)).array }
        let threadsBefore = BLAS.threads

        for round in 0..<4 {
            let results = ResultSlots(count: inputs.count)
            DispatchQueue.concurrentPerform(iterations: inputs.count) { i in
                results.set(i, model.forward(inputs[i], cache: KVCache(config: model.config)).array)
            }
            for i in inputs.indices {
                XCTAssertEqual(results.get(i), alone[i], "round \(round), sequence \(i): parallel forward differs")
            }
        }
        XCTAssertEqual(BLAS.threads, threadsBefore, "a forward changed OpenBLAS's thread count")
    }
}

/// One result per concurrent task, written under a lock.
private final class ResultSlots: @unchecked Sendable {
    private var values: [[Float]]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: [], count: count) }
    func set(_ i: Int, _ value: [Float]) { lock.withLock { values[i] = value } }
    func get(_ i: Int) -> [Float] { lock.withLock { values[i] } }
}
