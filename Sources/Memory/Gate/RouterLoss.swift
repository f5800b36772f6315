import Compute
import Foundation

/// The router loss that trains the MemoryGate (method.md §6): for a query labelled with bank rows
/// t_1..t_k and teacher scores c_j, soft targets p* = softmax(c/T_r) and
/// L = −Σ_j p*_j (log_softmax(S¹)[r_{t_j}] + log_softmax(S²)[c_{t_j}]), (r_t, c_t) the cell of row t.
/// The batch loss is the mean over its queries.
public enum RouterLoss {
    /// One labelled query: the cells of its target rows (r·n + c) and the teacher scores.
    public struct Target: Sendable {
        public let cells: [Int]
        public let scores: [Float]
        public init(cells: [Int], scores: [Float]) { self.cells = cells; self.scores = scores }
    }

    /// The mean loss over the batch and its gradients dS¹, dS² [B, n].
    public static func forwardBackward(scores: [Tensor], targets: [Target], temperature: Float) -> (loss: Double, dScores: [Tensor]) {
        let B = scores[0].shape[0], n = scores[0].shape[1]
        let dScores = scores.map { Tensor(zeros: $0.shape) }
        var total = 0.0
        for b in 0..<B {
            let target = targets[b]
            // p* = softmax(c / T_r)
            var weights = target.scores.map { $0 / temperature }
            weights.withUnsafeMutableBufferPointer { Softmax.row($0.baseAddress!, count: $0.count) }
            for h in 0..<2 {
                // log_softmax(S) with the maximum subtracted; d/dS of −Σ p*_j log p(index_j) is softmax(S) − Σ p*_j e_j.
                let row = scores[h].data + b * n, grad = dScores[h].data + b * n
                var m = -Float.infinity
                for r in 0..<n { m = max(m, row[r]) }
                var sum = 0.0
                for r in 0..<n { sum += Double(expf(row[r] - m)) }
                let logZ = Double(m) + log(sum)
                for r in 0..<n { grad[r] = Float(exp(Double(row[r]) - logZ)) / Float(B) }
                for (j, cell) in target.cells.enumerated() {
                    let index = h == 0 ? cell / n : cell % n
                    total -= Double(weights[j]) * (Double(row[index]) - logZ)
                    grad[index] -= weights[j] / Float(B)
                }
            }
        }
        return (total / Double(B), dScores)
    }
}
