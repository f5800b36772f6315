import Compute
import Foundation
import Memory

/// Dense coarse retrieval through the multi-index (method.md §4) at the bank size of the method's
/// default (N = 1,048,576 rows, n = 1024, K = 2560, C = 16, C_int = 128), one thread, per query:
/// both half-score vectors, the top C_int of each and the best-first cell walk. Random keys and
/// cells (what k-means makes has the same shapes; the walk's length depends on occupancy, which
/// is printed). The goal: ≤ 2 ms per query.
func benchDenseRetrieval(_ options: [String: String]) throws {
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
    printJSON(["impl": "explicitlm", "task": "dense-retrieval", "rows": rows, "dim": K, "ms_per_query": elapsed / Double(queries) * 1000,
               "candidates_per_query": Double(found) / Double(queries), "non_empty_cells": occupancy.nonEmptyCells])
}
