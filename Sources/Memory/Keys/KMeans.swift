import Compute

/// Lloyd's k-means for the key halves (method.md §3): the row keys P¹ cluster the first halves of
/// the rows' key embeddings, the column keys P² the second halves.
///
/// Deterministic for a seed: the initial centroids are distinct points drawn by a seeded
/// permutation, ties go to the lower centroid, and an emptied cluster restarts at the point that
/// is farthest from its own centroid (the lowest such point). Distances come from one GEMM per
/// chunk of points: ‖x − c‖² = ‖x‖² − 2·x·c + ‖c‖², so an iteration costs N·k·dim multiply-adds
/// in the backend's GEMM rather than in a scalar loop.
public enum KMeans {
    public struct Result {
        /// [clusters, dim]
        public let centroids: Tensor
        /// The nearest centroid of every point.
        public let assignment: [Int32]
        /// Assignment steps run: until the assignment stopped changing, or the limit.
        public let iterations: Int
    }

    /// Points per distance GEMM: a [chunk, k] block of scores stays small while the GEMM is large.
    static let chunk = 4096

    /// Clusters `count` points of `dim` floats, point i at `points + i·stride` (a key half is a
    /// strided view of the embeddings, not a copy), into `clusters` centroids. With fewer points
    /// than clusters, the extra centroids repeat points (and stay empty).
    public static func fit(
        _ points: UnsafePointer<Float>, count: Int, dim: Int, stride: Int? = nil, clusters k: Int, seed: UInt64,
        maxIterations: Int = 25
    ) -> Result {
        let stride = stride ?? dim
        precondition(k >= 1 && count >= 1 && dim >= 1 && stride >= dim, "KMeans.fit: \(count) points, \(k) clusters, dim \(dim)")
        var rng = SeededGenerator(seed: seed)
        let order = rng.permutation(count)
        let centroids = Tensor(zeros: [k, dim])
        for c in 0..<k { (centroids.data + c * dim).update(from: points + order[c % count] * stride, count: dim) }
        var assignment = [Int32](repeating: -1, count: count)
        var distances = [Float](repeating: 0, count: count)
        var iterations = 0
        // Ends on an assignment step, so every point sits in the cell of its nearest centroid.
        while true {
            iterations += 1
            let changed = assign(points, count: count, dim: dim, stride: stride, centroids: centroids, into: &assignment, distances: &distances)
            if (!changed && iterations > 1) || iterations >= maxIterations { break }
            update(points, count: count, dim: dim, stride: stride, assignment: &assignment, distances: distances, centroids: centroids)
        }
        return Result(centroids: centroids, assignment: assignment, iterations: iterations)
    }

    /// The nearest centroid of every point (ties to the lower index), written to `assignment`,
    /// with each point's squared distance to it. Returns whether any assignment changed.
    @discardableResult
    public static func assign(
        _ points: UnsafePointer<Float>, count: Int, dim: Int, stride: Int, centroids: Tensor,
        into assignment: inout [Int32], distances: inout [Float]
    ) -> Bool {
        let k = centroids.shape[0]
        var centroidNorms = [Float](repeating: 0, count: k)
        for c in 0..<k { centroidNorms[c] = Vector.sumOfSquares(centroids.data + c * dim, dim) }
        let scores = Tensor(zeros: [min(chunk, count), k])
        var changed = false
        var start = 0
        while start < count {
            let rows = min(chunk, count - start)
            // scores[i, c] = x_i · c
            Backend.gemm(points + start * stride, centroids.data, scores.data, m: rows, n: k, k: dim, transB: true, lda: stride)
            for i in 0..<rows {
                let row = scores.data + i * k
                var best = 0, bestDistance = Float.infinity
                centroidNorms.withUnsafeBufferPointer { norms in
                    for c in 0..<k {
                        let d = norms[c] - 2 * row[c]
                        if d < bestDistance { bestDistance = d; best = c }
                    }
                }
                let p = start + i
                if assignment[p] != Int32(best) { assignment[p] = Int32(best); changed = true }
                distances[p] = max(0, bestDistance + Vector.sumOfSquares(points + p * stride, dim))
            }
            start += rows
        }
        return changed
    }

    /// Moves each centroid to the mean of its points; an empty cluster takes the point farthest
    /// from its centroid (which then leaves its old cluster).
    static func update(
        _ points: UnsafePointer<Float>, count: Int, dim: Int, stride: Int, assignment: inout [Int32], distances: [Float],
        centroids: Tensor
    ) {
        let k = centroids.shape[0]
        var sizes = [Int](repeating: 0, count: k)
        for a in assignment { sizes[Int(a)] += 1 }
        let empty = (0..<k).filter { sizes[$0] == 0 }
        if !empty.isEmpty && count > 1 {
            // Farthest points first (lower index on ties); each leaves a cluster that keeps a point.
            var far = (0..<count).sorted { distances[$0] != distances[$1] ? distances[$0] > distances[$1] : $0 < $1 }.makeIterator()
            for c in empty {
                while let p = far.next() {
                    guard sizes[Int(assignment[p])] > 1 else { continue }
                    sizes[Int(assignment[p])] -= 1
                    assignment[p] = Int32(c)
                    sizes[c] = 1
                    break
                }
            }
        }
        centroids.fill(0)
        for p in 0..<count { Vector.add(points + p * stride, into: centroids.data + Int(assignment[p]) * dim, dim) }
        for c in 0..<k where sizes[c] > 0 {
            let inverse = 1 / Float(sizes[c])
            let row = centroids.data + c * dim
            for j in 0..<dim { row[j] *= inverse }
        }
    }
}
