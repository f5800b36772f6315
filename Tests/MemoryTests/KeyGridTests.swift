import Compute
import Encoders
import Memory
import XCTest

/// k-means keys and the multi-index over the bank (method.md §3, §4 coarse candidates).
final class KeyGridTests: XCTestCase {
    /// Points around well-separated centres: k-means finds the centres and every point's own.
    func testKMeansRecoversSeparatedClusters() {
        let k = 6, dim = 5, perCluster = 40
        var rng = SeededGenerator(seed: 3)
        // Centre c: 10·(c/dim + 1) on axis c % dim, every coordinate shifted by c.
        var centres: [[Float]] = []
        for c in 0..<k {
            var centre = [Float](repeating: Float(c), count: dim)
            centre[c % dim] += Float(10 * (c / dim + 1))
            centres.append(centre)
        }
        var points: [Float] = [], truth: [Int] = []
        for i in 0..<(k * perCluster) {
            let c = (i * 7) % k
            truth.append(c)
            points += centres[c].map { $0 + Float(rng.normal()) * 0.1 }
        }
        let fit = points.withUnsafeBufferPointer { KMeans.fit($0.baseAddress!, count: truth.count, dim: dim, clusters: k, seed: 11) }
        // The same partition (cluster labels are arbitrary).
        var label: [Int: Int32] = [:]
        for (i, c) in truth.enumerated() {
            if let l = label[c] { XCTAssertEqual(fit.assignment[i], l, "point \(i)") } else { label[c] = fit.assignment[i] }
        }
        XCTAssertEqual(Set(label.values).count, k)
        // A fixed point: each centroid is the mean of its points, each point at its nearest centroid.
        for c in 0..<k {
            let members = truth.indices.filter { fit.assignment[$0] == Int32(c) }
            for j in 0..<dim {
                let mean = members.map { points[$0 * dim + j] }.reduce(0, +) / Float(members.count)
                XCTAssertEqual(fit.centroids.data[c * dim + j], mean, accuracy: 1e-4)
            }
        }
        // Deterministic for a seed.
        let again = points.withUnsafeBufferPointer { KMeans.fit($0.baseAddress!, count: truth.count, dim: dim, clusters: k, seed: 11) }
        XCTAssertEqual(again.assignment, fit.assignment)
        XCTAssertEqual(again.centroids.array, fit.centroids.array)
    }

    /// Fewer rows than grid cells (a tiny knowledge base) and strided halves still give valid cells.
    func testBuildWithFewRowsAndEmptyTail() throws {
        var rng = SeededGenerator(seed: 5)
        let rows = 3, K = 8, n = 4
        let embeddings = (0..<(rows * K)).map { _ in Float(rng.normal()) }
        let grid = embeddings.withUnsafeBufferPointer { KeyGrid.build(embeddings: $0.baseAddress!, rows: rows, dim: K, side: n, capacity: 16, seed: 1) }
        XCTAssertEqual(grid.keys.shape, [2, n, K / 2])
        XCTAssertEqual(grid.cells.count, 16)
        XCTAssertTrue(grid.cells[rows...].allSatisfy { $0 == -1 })
        for r in 0..<rows {
            // Each row sits in the cell of its nearest keys, and is listed there.
            let cell = embeddings.withUnsafeBufferPointer { grid.nearestCell($0.baseAddress! + r * K) }
            XCTAssertEqual(grid.cells[r], cell)
            XCTAssertTrue(grid.rows(inCell: Int(cell)).contains(Int32(r)))
        }
        XCTAssertEqual(grid.occupancy(candidates: 16).recallCeiling, 1)
    }

    /// Best-first cell traversal equals scoring every pair of the top keys and sorting.
    func testCandidatesEqualBruteForce() throws {
        var rng = SeededGenerator(seed: 9)
        let n = 12, half = 3, rowsInBank = 300
        let keys = Tensor(shape: [2, n, half], values: (0..<(2 * n * half)).map { _ in Float(rng.normal()) })
        let cells = (0..<rowsInBank).map { i in i % 7 == 0 ? Int32(-1) : Int32(rng.next() % UInt64(n * n / 3)) * 3 }
        let grid = try KeyGrid(keys: keys, cells: cells)
        for trial in 0..<20 {
            let query = (0..<(2 * half)).map { _ in Float(rng.normal()) }
            // Coarse scores quantised so that ties happen.
            let s1 = query.withUnsafeBufferPointer { grid.halfScores($0.baseAddress!, half: 0) }.map { ($0 * 4).rounded() / 4 }
            let s2 = query.withUnsafeBufferPointer { grid.halfScores($0.baseAddress!, half: 1) }.map { ($0 * 4).rounded() / 4 }
            let topK = 1 + trial % 6, count = 1 + trial * 3
            let got = grid.candidates(rowScores: s1, columnScores: s2, halfTopK: topK, count: count)

            func top(_ s: [Float]) -> [Int] { Array(s.indices.sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }.prefix(topK)) }
            let r = top(s1), c = top(s2)
            var pairs: [(Float, Int, Int)] = []
            for i in r.indices { for j in c.indices { pairs.append((s1[r[i]] + s2[c[j]], i, j)) } }
            pairs.sort { $0.0 != $1.0 ? $0.0 > $1.0 : ($0.1 != $1.1 ? $0.1 < $1.1 : $0.2 < $1.2) }
            var expected: [(Int32, Float)] = []
            for (score, i, j) in pairs {
                for row in cells.indices where cells[row] == Int32(r[i] * n + c[j]) && expected.count < count { expected.append((Int32(row), score)) }
            }
            XCTAssertEqual(got.map(\.row), expected.map(\.0), "trial \(trial)")
            XCTAssertEqual(got.map(\.score), expected.map(\.1), "trial \(trial)")
        }
    }

    func testOccupancyAndEdits() throws {
        let keys = Tensor(zeros: [2, 2, 1])
        var grid = try KeyGrid(keys: keys, cells: [0, 0, 0, 3, -1])
        var o = grid.occupancy(candidates: 2)
        XCTAssertEqual(o.nonEmptyCells, 2); XCTAssertEqual(o.largestCell, 3)
        XCTAssertEqual(o.recallCeiling, 3.0 / 4.0)  // cell 0 shows 2 of its 3 rows
        try grid.setCell(1, 2)
        XCTAssertEqual(Array(grid.rows(inCell: 0)), [0, 2])
        XCTAssertEqual(Array(grid.rows(inCell: 2)), [1])
        o = grid.occupancy(candidates: 2)
        XCTAssertEqual(o.nonEmptyCells, 3); XCTAssertEqual(o.recallCeiling, 1)
        XCTAssertThrowsError(try grid.setCell(5, 0)) { XCTAssertTrue("\($0)".contains("row 5 is outside the bank")) }
        XCTAssertThrowsError(try grid.setCell(0, 4)) { XCTAssertTrue("\($0)".contains("cell 4 is outside the 2 × 2 grid")) }
        XCTAssertThrowsError(try KeyGrid(keys: keys, cells: [7])) { XCTAssertTrue("\($0)".contains("cells[0] is 7")) }
        XCTAssertThrowsError(try KeyGrid(keys: Tensor(zeros: [3, 2, 1]), cells: [])) { XCTAssertTrue("\($0)".contains("[2, n, K/2]")) }
    }
}

/// Key texts, the default N and the embedding pass.
final class MemoryKeysTests: XCTestCase {
    final class LengthEmbedder: SentenceEmbedder {
        var calls: [[String]] = []
        var dimension: Int { 2 }
        func embed(_ texts: [String]) throws -> [[Float]] {
            calls.append(texts)
            return texts.map { [Float($0.count), 1] }
        }
    }

    func testKeyTextsDefaultSizeAndEmbedding() throws {
        let facts = [Fact(sentence: "Lima is the capital of Peru.", subject: "Peru", predicate: "capital", object: "Lima"),
                     Fact(sentence: "Water boils at 100 degrees.", subject: "Water"),
                     Fact(sentence: "abc", subject: "", predicate: "p")]
        XCTAssertEqual(facts.map(MemoryKeys.keyText), ["Peru capital", "Water boils at 100 degrees.", "abc"])
        XCTAssertEqual([1, 4, 5, 16, 17, 100, 1000].map { MemoryKeys.knowledgeNum(facts: $0) }, [4, 16, 64, 64, 256, 1024, 4096])
        let embedder = LengthEmbedder()
        var seen: [Int] = []
        let e = try MemoryKeys.embed(facts, with: embedder, batch: 2) { done, total in seen.append(done); XCTAssertEqual(total, 3) }
        XCTAssertEqual(e.shape, [3, 2])
        XCTAssertEqual(e.array, [12, 1, 27, 1, 3, 1])
        XCTAssertEqual(embedder.calls.map(\.count), [2, 1])
        XCTAssertEqual(seen, [2, 3])
    }
}
