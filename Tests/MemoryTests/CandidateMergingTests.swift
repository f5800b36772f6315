import Compute
import Memory
import XCTest

/// Encoder candidates through the multi-index and the hybrid merge (method.md §4).
final class CandidateMergingTests: XCTestCase {
    func testHybridNormalisesEachListAndPutsLexicalFirst() {
        let lexical = [RetrievedRow(row: 4, score: 9), RetrievedRow(row: 2, score: 5), RetrievedRow(row: 7, score: 1)]
        let encoder = [RetrievedRow(row: 2, score: 1), RetrievedRow(row: 8, score: 0.5), RetrievedRow(row: 4, score: 0)]
        XCTAssertEqual(CandidateMerging.hybrid(lexical: lexical, other: encoder, count: 10), [
            RetrievedRow(row: 4, score: 1 + 0), RetrievedRow(row: 2, score: 0.5 + 1), RetrievedRow(row: 7, score: 0),
            RetrievedRow(row: 8, score: 0.5),
        ])
        XCTAssertEqual(CandidateMerging.hybrid(lexical: lexical, other: encoder, count: 2).map(\.row), [4, 2])
        // One candidate, or equal scores: each counts fully.
        XCTAssertEqual(CandidateMerging.hybrid(lexical: [RetrievedRow(row: 1, score: 3)], other: [], count: 4), [RetrievedRow(row: 1, score: 1)])
        XCTAssertEqual(CandidateMerging.hybrid(lexical: [], other: [], count: 4), [])
    }

    /// The walk's rows, re-scored by the exact cosine with each row's own key embedding.
    func testEncoderCandidatesAreRescoredByExactCosine() throws {
        var rng = SeededGenerator(seed: 2)
        let rows = 40, K = 6
        let embeddings = (0..<(rows * K)).map { _ in Float(rng.normal()) }
        let grid = embeddings.withUnsafeBufferPointer { KeyGrid.build(embeddings: $0.baseAddress!, rows: rows, dim: K, side: 4, capacity: rows, seed: 3) }
        func key(_ row: Int) -> [Float] { Array(embeddings[(row * K)..<((row + 1) * K)]) }
        // A row's own embedding as the query: it is found, with cosine 1, and is the best.
        for target in [0, 17, 39] {
            let query = key(target)
            let found = query.withUnsafeBufferPointer {
                CandidateMerging.encoder(grid: grid, query: $0.baseAddress!, halfTopK: 4, count: 16, key: key)
            }
            let coarse = query.withUnsafeBufferPointer { q in
                grid.candidates(rowScores: grid.halfScores(q.baseAddress!, half: 0), columnScores: grid.halfScores(q.baseAddress!, half: 1),
                                halfTopK: 4, count: 16)
            }
            XCTAssertEqual(found.map(\.row), coarse.map { Int($0.row) }, "the walk's order is kept")
            let own = try XCTUnwrap(found.first { $0.row == target })
            XCTAssertEqual(own.score, 1, accuracy: 1e-5)
            XCTAssertEqual(found.map(\.score).max()!, own.score, accuracy: 1e-6)
            for r in found {
                let e = key(r.row)
                var dot = 0.0, qq = 0.0, ee = 0.0
                for j in 0..<K {
                    dot += Double(query[j]) * Double(e[j]); qq += Double(query[j]) * Double(query[j]); ee += Double(e[j]) * Double(e[j])
                }
                let exact = dot / (qq.squareRoot() * ee.squareRoot())
                XCTAssertEqual(Double(r.score), exact, accuracy: 1e-5)
            }
        }
    }
}
