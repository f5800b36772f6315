import Compute

/// The inverted multi-index over the bank (method.md §3): row keys P¹ and column keys P², stored
/// together as `keys` [2, n, K/2]; each bank row's cell r·n + c (−1 for an empty row); and per cell
/// the rows it holds, as CSR lists (`cellOffsets` [n²+1], `cellEntries`) in bank-row order.
///
/// Cells are a coarse index, not an identity: a cell may hold several rows or none, and every
/// label, candidate and edit speaks of bank rows.
public struct KeyGrid: Sendable {
    /// [2, n, K/2]: keys[0] the row keys P¹, keys[1] the column keys P².
    public let keys: Tensor
    /// n: rows and columns of the grid; n² cells.
    public let side: Int
    /// K/2.
    public let halfDim: Int
    /// The cell of every bank row, −1 when the row is empty.
    public private(set) var cells: [Int32]
    public private(set) var cellOffsets: [Int32]
    public private(set) var cellEntries: [Int32]
    /// ‖key‖ of every row key, then every column key: cosines need them for every query.
    let keyNorms: [Float]

    /// A grid over `keys` [2, n, K/2] with the given cell of every bank row.
    public init(keys: Tensor, cells: [Int32]) throws {
        guard keys.rank == 3, keys.shape[0] == 2, keys.shape[1] >= 1, keys.shape[2] >= 1 else {
            throw MemoryConfigError("keys: shape \(keys.shape) is not [2, n, K/2]")
        }
        let n = keys.shape[1]
        if let (row, bad) = cells.enumerated().first(where: { $0.element < -1 || Int($0.element) >= n * n }) {
            throw MemoryConfigError("cells[\(row)] is \(bad): a cell of the \(n) × \(n) grid is in 0..<\(n * n), or −1 for an empty row")
        }
        self.keys = keys
        side = n
        halfDim = keys.shape[2]
        keyNorms = (0..<(2 * n)).map { [halfDim] k in Vector.sumOfSquares(keys.data + k * halfDim, halfDim).squareRoot() }
        self.cells = cells
        (cellOffsets, cellEntries) = Self.lists(cells, cellCount: n * n)
    }

    /// k-means keys for the rows' key embeddings [rows, K] (method §3): P¹ clusters the first
    /// halves, P² the second; each row goes to the cell of its nearest row and column key. Bank
    /// rows from `rows` up to `capacity` are empty.
    public static func build(
        embeddings: UnsafePointer<Float>, rows: Int, dim K: Int, side n: Int, capacity: Int, seed: UInt64
    ) -> KeyGrid {
        precondition(K >= 2 && K % 2 == 0 && rows >= 1 && rows <= capacity, "KeyGrid.build: \(rows) rows of width \(K)")
        let half = K / 2
        let keys = Tensor(zeros: [2, n, half])
        var cells = [Int32](repeating: -1, count: capacity)
        var halves: [[Int32]] = []
        for h in 0..<2 {
            let fit = KMeans.fit(embeddings + h * half, count: rows, dim: half, stride: K, clusters: n, seed: seed &+ UInt64(h))
            (keys.data + h * n * half).update(from: fit.centroids.data, count: n * half)
            halves.append(fit.assignment)
        }
        for i in 0..<rows { cells[i] = halves[0][i] * Int32(n) + halves[1][i] }
        // The shapes are ours and the cells in range: this cannot throw.
        return try! KeyGrid(keys: keys, cells: cells)
    }

    /// The rows of `cell`, in bank order.
    public func rows(inCell cell: Int) -> ArraySlice<Int32> {
        cellEntries[Int(cellOffsets[cell])..<Int(cellOffsets[cell + 1])]
    }

    /// Moves bank row `row` to `cell` (−1: out of every cell) and rebuilds the lists: O(rows),
    /// a few milliseconds for a million rows.
    public mutating func setCell(_ row: Int, _ cell: Int32) throws {
        guard row >= 0, row < cells.count else { throw MemoryConfigError("row \(row) is outside the bank (0..<\(cells.count))") }
        guard cell >= -1, Int(cell) < side * side else { throw MemoryConfigError("cell \(cell) is outside the \(side) × \(side) grid") }
        cells[row] = cell
        (cellOffsets, cellEntries) = Self.lists(cells, cellCount: side * side)
    }

    /// The cell of the nearest row key and the nearest column key to `embedding` [K].
    public func nearestCell(_ embedding: UnsafePointer<Float>) -> Int32 { Self.nearestCell(embedding, keys: keys) }

    /// The same for bare keys [2, n, K/2], before any row has a cell.
    public static func nearestCell(_ embedding: UnsafePointer<Float>, keys: Tensor) -> Int32 {
        let side = keys.shape[1], halfDim = keys.shape[2]
        var best = [0, 0]
        for h in 0..<2 {
            var bestDistance = Float.infinity
            for r in 0..<side {
                let key = keys.data + (h * side + r) * halfDim, x = embedding + h * halfDim
                var d: Float = 0
                for j in 0..<halfDim { let e = x[j] - key[j]; d += e * e }
                if d < bestDistance { bestDistance = d; best[h] = r }
            }
        }
        return Int32(best[0] * side + best[1])
    }

    /// cos(query half, key) for every row key (h = 0) or column key (h = 1): S¹ or S² before the scale.
    public func halfScores(_ query: UnsafePointer<Float>, half h: Int) -> [Float] {
        let q = query + h * halfDim
        let qNorm = Vector.sumOfSquares(q, halfDim).squareRoot()
        var scores = [Float](repeating: 0, count: side)
        scores.withUnsafeMutableBufferPointer { Backend.gemv(keys.data + h * side * halfDim, q, $0.baseAddress!, m: side, n: halfDim) }
        for r in 0..<side { scores[r] /= max(qNorm * keyNorms[h * side + r], 1e-8) }
        return scores
    }

    /// Coarse candidates (method §4): the best `halfTopK` row keys by `rowScores` and column keys by
    /// `columnScores`, their cells visited best first by S¹_r + S²_c (ties: the better row key,
    /// then the better column key), rows collected until `count` are found. Each row comes with
    /// its cell's score.
    public func candidates(rowScores: [Float], columnScores: [Float], halfTopK: Int, count: Int) -> [(row: Int32, score: Float)] {
        let rows = Self.top(rowScores, halfTopK), columns = Self.top(columnScores, halfTopK)
        var found: [(row: Int32, score: Float)] = []
        var frontier = CellFrontier(rows: rows.map { rowScores[$0] }, columns: columns.map { columnScores[$0] })
        while found.count < count, let (i, j, score) = frontier.pop() {
            for row in self.rows(inCell: rows[i] * side + columns[j]) {
                found.append((row, score))
                if found.count == count { break }
            }
        }
        return found
    }

    /// What the build reports (method §3): non-empty cells, the largest cell, and the recall
    /// ceiling: the share of rows among the first `candidates` of their own cell, i.e. retrievable
    /// if their cell ranked first.
    public func occupancy(candidates: Int) -> (rows: Int, nonEmptyCells: Int, largestCell: Int, recallCeiling: Double) {
        var nonEmpty = 0, largest = 0, reachable = 0, rows = 0
        for c in 0..<(side * side) {
            let size = Int(cellOffsets[c + 1] - cellOffsets[c])
            if size > 0 { nonEmpty += 1 }
            largest = max(largest, size)
            reachable += min(size, candidates)
            rows += size
        }
        return (rows, nonEmpty, largest, rows == 0 ? 0 : Double(reachable) / Double(rows))
    }

    /// The indices of the `k` largest scores, best first (ties to the lower index): a min-heap of
    /// the best k so far, so most of the n scores cost one comparison with its root.
    static func top(_ scores: [Float], _ k: Int) -> [Int] {
        let k = min(k, scores.count)
        guard k > 0 else { return [] }
        // a ranks below b: a lower score, or the same score at a higher index.
        @inline(__always) func below(_ a: Int, _ b: Int) -> Bool { scores[a] != scores[b] ? scores[a] < scores[b] : a > b }
        var heap = [Int]()
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var p = start
            while true {
                let l = 2 * p + 1, r = l + 1
                var m = p
                if l < heap.count && below(heap[l], heap[m]) { m = l }
                if r < heap.count && below(heap[r], heap[m]) { m = r }
                if m == p { return }
                heap.swapAt(p, m)
                p = m
            }
        }
        for i in scores.indices {
            if heap.count < k {
                heap.append(i)
                var c = heap.count - 1
                while c > 0 && below(heap[c], heap[(c - 1) / 2]) { heap.swapAt(c, (c - 1) / 2); c = (c - 1) / 2 }
            } else if below(heap[0], i) {
                heap[0] = i
                siftDown(0)
            }
        }
        return heap.sorted { below($1, $0) }
    }

    static func lists(_ cells: [Int32], cellCount: Int) -> (offsets: [Int32], entries: [Int32]) {
        var offsets = [Int32](repeating: 0, count: cellCount + 1)
        for c in cells where c >= 0 { offsets[Int(c) + 1] += 1 }
        for c in 0..<cellCount { offsets[c + 1] += offsets[c] }
        var entries = [Int32](repeating: 0, count: Int(offsets[cellCount]))
        var next = offsets
        for (row, c) in cells.enumerated() where c >= 0 {
            entries[Int(next[Int(c)])] = Int32(row)
            next[Int(c)] += 1
        }
        return (offsets, entries)
    }
}

/// Best-first walk over the grid of (row key i, column key j) pairs, both lists sorted best first:
/// the next best pair is always a neighbour (i+1, j) or (i, j+1) of one already taken, so a small
/// heap replaces sorting all k² sums.
struct CellFrontier {
    let rows: [Float], columns: [Float]
    private var heap: [(score: Float, i: Int, j: Int)] = []
    private var seen = Set<Int>()

    init(rows: [Float], columns: [Float]) {
        self.rows = rows
        self.columns = columns
        if !rows.isEmpty && !columns.isEmpty { push(0, 0) }
    }

    private static func before(_ a: (score: Float, i: Int, j: Int), _ b: (score: Float, i: Int, j: Int)) -> Bool {
        a.score != b.score ? a.score > b.score : (a.i != b.i ? a.i < b.i : a.j < b.j)
    }

    private mutating func push(_ i: Int, _ j: Int) {
        guard i < rows.count, j < columns.count, seen.insert(i * columns.count + j).inserted else { return }
        heap.append((rows[i] + columns[j], i, j))
        var c = heap.count - 1
        while c > 0, Self.before(heap[c], heap[(c - 1) / 2]) {
            heap.swapAt(c, (c - 1) / 2)
            c = (c - 1) / 2
        }
    }

    /// The best pair not yet taken, or nil when every pair was.
    mutating func pop() -> (i: Int, j: Int, score: Float)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var p = 0
            while true {
                let l = 2 * p + 1, r = l + 1
                var m = p
                if l < heap.count && Self.before(heap[l], heap[m]) { m = l }
                if r < heap.count && Self.before(heap[r], heap[m]) { m = r }
                if m == p { break }
                heap.swapAt(p, m)
                p = m
            }
        }
        push(top.i + 1, top.j)
        push(top.i, top.j + 1)
        return (top.i, top.j, top.score)
    }
}
