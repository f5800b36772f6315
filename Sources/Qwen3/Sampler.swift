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
        // Candidates by descending logit; top-k keeps the first k (ties in index order).
        var order = Array(0..<vocab)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if topK > 0 { order.removeSubrange(min(topK, vocab)...) }
        let maxLogit = logits[order[0]]
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
}
