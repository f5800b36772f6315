import Compute
import Foundation
import Memory

/// Coarse retrieval through the multi-index (method.md §4) at the bank size of the method's default
/// (N = 1,048,576 rows, n = 1024, C = 16, C_int = 128), one thread, per query. Dense (K = 2560, the
/// MemoryGate's z): both half-score vectors, the top C_int of each and the best-first cell walk.
/// Encoder (K = 384, MiniLM's width, after the query is embedded): the same walk, then the exact
/// cosine with each candidate's stored key embedding. Random keys and cells (k-means makes the same
/// shapes; the walk's length depends on occupancy, printed). The goal: ≤ 2 ms per query.
func benchCoarseRetrieval(_ options: [String: String]) throws {
    let rows = Int(options["rows"] ?? "1048576")!, K = Int(options["dim"] ?? "2560")!
    let queries = Int(options["queries"] ?? "200")!
    let n = Int(Double(rows).squareRoot()), half = K / 2
    var rng = SeededGenerator(seed: 1)
    let keys = Tensor(shape: [2, n, half], values: (0..<(2 * n * half)).map { _ in Float(rng.normal()) })
    let cells = (0..<rows).map { _ in Int32(rng.next() % UInt64(n * n)) }
    let grid = try KeyGrid(keys: keys, cells: cells)
    let config = MemoryConfig()
    let qs = (0..<queries).map { _ in (0..<K).map { _ in Float(rng.normal()) } }
    var found = 0
    let elapsed = seconds {
        for q in qs {
            q.withUnsafeBufferPointer { p in
                let s1 = grid.halfScores(p.baseAddress!, half: 0), s2 = grid.halfScores(p.baseAddress!, half: 1)
                found += grid.candidates(rowScores: s1, columnScores: s2, halfTopK: config.halfTopK, count: config.numCandidates).count
            }
        }
    }
    let occupancy = grid.occupancy(candidates: config.numCandidates)

    // Encoder: a grid over K = 384 keys and every row's stored key embedding.
    let encoderK = Int(options["encoder-dim"] ?? "384")!, encoderHalf = encoderK / 2
    let encoderKeys = Tensor(shape: [2, n, encoderHalf], values: (0..<(2 * n * encoderHalf)).map { _ in Float(rng.normal()) })
    let encoderGrid = try KeyGrid(keys: encoderKeys, cells: cells)
    let stored = (0..<(rows * encoderK)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
    let encoderQueries = (0..<queries).map { _ in (0..<encoderK).map { _ in Float(rng.normal()) } }
    let encoderElapsed = seconds {
        for q in encoderQueries {
            q.withUnsafeBufferPointer { p in
                found += CandidateMerging.encoder(grid: encoderGrid, query: p.baseAddress!, halfTopK: config.halfTopK, count: config.numCandidates) {
                    Array(stored[($0 * encoderK)..<(($0 + 1) * encoderK)])
                }.count
            }
        }
    }
    printJSON(["impl": "explicitlm", "task": "coarse-retrieval", "rows": rows, "dense_dim": K, "encoder_dim": encoderK,
               "dense_ms_per_query": elapsed / Double(queries) * 1000, "encoder_ms_per_query": encoderElapsed / Double(queries) * 1000,
               "candidates_per_query": Double(found) / Double(2 * queries), "non_empty_cells": occupancy.nonEmptyCells])
}
