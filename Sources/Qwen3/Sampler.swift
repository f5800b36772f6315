import Compute
import Foundation

/// Chooses the next token from logits: greedy (temperature 0), or temperature sampling restricted
/// to the top-k tokens and then to the smallest set whose probability reaches top-p.
public struct Sampler: Sendable {
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    private var rng: SeededGenerator

    /// temperature 0 is greedy; topK 0 and topP 1 switch those filters off.
    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        rng = SeededGenerator(seed: seed)
    }

    public mutating func next(_ logits: UnsafePointer<Float>, vocab: Int) -> Int32 {
        if temperature <= 0 { return Int32(Vector.argmax(logits, vocab)) }
        // Candidates by descending logit (ties in index order) when a filter needs the order: top-k
        // keeps the first k without sorting the whole vocabulary.
        var order: [Int]
        if topK > 0 && topK < vocab {
            order = Self.topIndices(logits, vocab: vocab, k: topK)
        } else if topP < 1 {
            order = Array(0..<vocab)
            order.sort { Self.ranksBefore(logits, $0, $1) }
        } else {
            order = Array(0..<vocab)
        }
        let maxLogit = logits[Vector.argmax(logits, vocab)]
        var probs = order.map { expf((logits[$0] - maxLogit) / temperature) }
        let total = probs.reduce(0, +)
        for i in probs.indices { probs[i] /= total }
        // top-p: the smallest prefix whose mass reaches topP (at least one token).
        if topP < 1 {
            var mass: Float = 0, keep = 0
            while keep < probs.count { mass += probs[keep]; keep += 1; if mass >= topP { break } }
            probs.removeSubrange(keep...)
            order.removeSubrange(keep...)
        }
        let r = Float(rng.unit()) * probs.reduce(0, +)
        var acc: Float = 0
        for (i, p) in probs.enumerated() {
            acc += p
            if r < acc { return Int32(order[i]) }
        }
        return Int32(order[probs.count - 1])
    }

    /// Whether token a ranks before token b: higher logit, then lower index (as torch.topk's order).
    @inline(__always)
    static func ranksBefore(_ logits: UnsafePointer<Float>, _ a: Int, _ b: Int) -> Bool {
        logits[a] > logits[b] || (logits[a] == logits[b] && a < b)
    }

    /// The k best tokens in rank order, by insertion into a sorted list of k: one pass over the
    /// vocabulary, and few insertions once the list holds the large logits.
    static func topIndices(_ logits: UnsafePointer<Float>, vocab: Int, k: Int) -> [Int] {
        var top: [Int] = []
        top.reserveCapacity(k + 1)
        for i in 0..<vocab {
            if top.count == k {
                guard ranksBefore(logits, i, top[k - 1]) else { continue }
                top.removeLast()
            }
            var lo = 0, hi = top.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if ranksBefore(logits, top[mid], i) { lo = mid + 1 } else { hi = mid }
            }
            top.insert(i, at: lo)
        }
        return top
    }
}
