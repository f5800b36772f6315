import Compute

/// The dense retriever of method.md §4, run inside the forward pass: once a sample's prompt has been
/// read at a memory layer, its query state q̄ goes through that layer's MemoryGate to z, the two
/// halves are scored against the multi-index's keys (S^h = s·cos(z^h, P^h)) and the cells walked
/// best first until C rows are found; π_j is the cell score of row j. The LM loss does not train
/// the gate (§4), so nothing here has a backward: the router loss trains it on its own.
public final class DenseRetriever {
    public let grid: KeyGrid
    /// One per memory layer (indexed like `MemoryModel.steps`), or one shared by all.
    public let gates: [MemoryGate]
    /// C and C_int (the keys kept per half).
    public let count: Int, halfTopK: Int
    /// A retrieved row's tokens, as fine selection reads them.
    private let entry: (RetrievedRow) -> MemoryCandidate

    public init(grid: KeyGrid, gates: [MemoryGate], count: Int, entry: @escaping (RetrievedRow) -> MemoryCandidate) throws {
        guard !gates.isEmpty else { throw MemoryError("the dense retriever needs a MemoryGate") }
        for gate in gates where gate.keyDim != 2 * grid.halfDim {
            throw MemoryError("the MemoryGate projects to K = \(gate.keyDim), the bank's keys have K = \(2 * grid.halfDim)")
        }
        guard count >= 1 else { throw MemoryError("the candidate count must be at least 1, got \(count)") }
        self.grid = grid
        self.gates = gates
        self.count = count
        halfTopK = min(128, grid.side)
        self.entry = entry
    }

    /// The gate of memory layer `index`: its own, or the shared one.
    public func gate(step index: Int) -> MemoryGate { gates[gates.count == 1 ? 0 : index] }

    /// The top C rows for the query state `queryState` [D] of memory layer `index`, best first,
    /// each with its cell's score S¹_r + S²_c.
    public func retrieve(queryState: [Float], step index: Int) -> [RetrievedRow] {
        let gate = gate(step: index)
        let z = gate.project(Tensor(shape: [1, queryState.count], values: queryState)).z
        let s = gate.scale
        let rowScores = grid.halfScores(z.data, half: 0).map { s * $0 }
        let columnScores = grid.halfScores(z.data, half: 1).map { s * $0 }
        return grid.candidates(rowScores: rowScores, columnScores: columnScores, halfTopK: halfTopK, count: count)
            .map { RetrievedRow(row: Int($0.row), score: $0.score) }
    }

    /// The same rows as fine selection reads them.
    public func candidates(queryState: [Float], step index: Int) -> [MemoryCandidate] {
        retrieve(queryState: queryState, step: index).map(entry)
    }
}
