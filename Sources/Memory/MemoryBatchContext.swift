import Compute
import Foundation

/// One candidate bank row handed to fine selection by the retriever (method.md §4).
public struct MemoryCandidate: Sendable {
    public let row: Int
    /// The row's tokens without its pads (its first `length` tokens).
    public let tokens: [Int32]
    /// The retriever's score (λ = score / τ).
    public let score: Float

    /// `tokens`: the row as the bank stores it ([L_k], right-padded); `length` of them are real.
    public init(row: Int, tokens: [Int32], length: Int, score: Float) {
        self.row = row
        self.tokens = Array(tokens.prefix(max(0, length)))
        self.score = score
    }
}

/// What the memory step needs to know about one sequence of the batch.
public struct MemorySample: Sendable {
    /// In the retriever's order: ties in evaluation go to the first. At most C are read; with fewer
    /// the rest are masked, with none the step leaves the sequence unchanged.
    public var candidates: [MemoryCandidate]
    /// Positions before the answer being predicted: q̄ is the mean of MemoryNorm(h) over them.
    public var promptLength: Int
    /// Per position, whether it predicts an answer token (the similarity and diversity terms);
    /// empty: none.
    public var answerMask: [Bool]
    /// Rows whose tokens this sample reads in place of the bank's (the counterfactual swap's gold
    /// row), applied to the dense retriever's candidates; `candidates` carry their own tokens.
    public var rowTokens: [Int: [Int32]]

    public init(candidates: [MemoryCandidate], promptLength: Int, answerMask: [Bool] = [], rowTokens: [Int: [Int32]] = [:]) {
        self.candidates = candidates
        self.promptLength = promptLength
        self.answerMask = answerMask
        self.rowTokens = rowTokens
    }
}

/// The Gumbel noise of training's fine selection: drawn from a seeded generator (g = −log(−log u)),
/// or read from a table [memory layers, B, T, C] (the tests hand PyTorch's noise in).
public final class GumbelNoise {
    private var generator: SeededGenerator?
    private let table: Tensor?

    public init(generator: SeededGenerator) {
        self.generator = generator
        table = nil
    }

    public init(table: Tensor) {
        precondition(table.rank == 4, "Gumbel noise table must be [memory layers, B, T, C], got \(table.shape)")
        self.table = table
    }

    /// The generator's state after the draws so far (to checkpoint it).
    public var generatorState: SeededGenerator? { generator }

    /// Noise for `count` candidates of memory layer `index`, batch row `row`, position `position`.
    func draw(index: Int, row: Int, position: Int, count: Int) -> [Float] {
        if let t = table {
            let (M, B, T, C) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
            precondition(index < M && row < B && position < T && count <= C,
                         "Gumbel noise table \(t.shape) has no entry for layer \(index), row \(row), position \(position)")
            return Array(UnsafeBufferPointer(start: t.data + ((index * B + row) * T + position) * C, count: count))
        }
        return (0..<count).map { _ in
            let u = min(generator!.unit(), 1 - 0x1p-53)
            return Float(-log(-log(u)))
        }
    }
}

/// Everything one batch's memory steps need and report, passed explicitly to every step
/// (inference hook or training module). Make one per batch (or per generated sequence).
public final class MemoryBatchContext {
    public enum Selection {
        /// Evaluation and generation: the candidate with the highest score, ties to the first.
        case argmax
        /// Training: straight-through Gumbel-Softmax with this noise.
        case gumbel(GumbelNoise)
    }

    public let samples: [MemorySample]
    public let selection: Selection
    /// Under the dense retriever: the candidates come from each memory layer's q̄ once the prompt is
    /// read, not from the samples (whose `candidates` are then ignored).
    public let dense: DenseRetriever?
    /// d(total loss)/d(Σ of −σ_t over the answer tokens of every memory layer): the similarity
    /// term's weight divided by (memory layers × answer tokens); 0 leaves it out of the gradient.
    public var similarityScale: Float

    public init(samples: [MemorySample], selection: Selection, similarityScale: Float = 0, dense: DenseRetriever? = nil) {
        self.samples = samples
        self.selection = selection
        self.similarityScale = similarityScale
        self.dense = dense
    }

    /// The chunk size that lets a forward pass over `prompt` tokens of one sequence run these steps:
    /// the dense retriever needs the whole prompt at once (q̄ before the first prompt position's step).
    public func prefillChunkSize(prompt: Int, default chunk: Int = 512) -> Int {
        dense == nil ? chunk : max(chunk, prompt)
    }

    // What the steps report.
    private var querySums: [Int: [[Double]]] = [:]
    private var queryCounts: [Int: [Int]] = [:]
    /// Per decoder layer, per sample, per position seen so far: the candidate index chosen (−1: none).
    public internal(set) var selected: [Int: [[Int]]] = [:]
    /// Σ −σ_t and Σ of the diversity term over the answer tokens of every memory layer so far, and
    /// their token counts (a training step adds its micro batches' sums).
    public internal(set) var similaritySum = 0.0, diversitySum = 0.0
    public internal(set) var answerTokens = 0
    public internal(set) var diversityTokens = 0

    private var denseCandidates: [Int: [[MemoryCandidate]?]] = [:]

    /// A candidate's entry as a memory step reads it: its token embeddings, their mean and the
    /// fusion's entry-only work. Kept for the context's life by steps that keep nothing for backward:
    /// a generation's decoded tokens read the same candidates step after step.
    struct CachedEntry {
        let row: Int
        let tokens: Tensor
        let mean: [Float]
        var fusion: FusionEntry?
    }
    struct EntryKey: Hashable { let layer: Int, sample: Int, candidate: Int }
    var entryCache: [EntryKey: CachedEntry] = [:]

    /// The candidates memory layer `layer` reads for sample `b`: the sample's own, or under the dense
    /// retriever those its q̄ gave (nil until the layer has read the whole prompt).
    public func candidates(layer: Int, sample b: Int) -> [MemoryCandidate]? {
        dense == nil ? samples[b].candidates : denseCandidates[layer]?[b] ?? nil
    }

    /// `candidates(layer:sample:)`, retrieving from q̄ through memory layer `index`'s gate the first
    /// time the whole prompt has been read (no prompt: no candidates).
    func resolveCandidates(layer: Int, step index: Int, sample b: Int) -> [MemoryCandidate]? {
        guard let dense else { return samples[b].candidates }
        if let known = candidates(layer: layer, sample: b) { return known }
        let promptLength = samples[b].promptLength
        let seen = queryCounts[layer]?[b] ?? 0
        guard seen == promptLength else { return nil }
        let overrides = samples[b].rowTokens
        let found = (queryState(layer: layer, sample: b).map { dense.candidates(queryState: $0, step: index) } ?? []).map { c in
            overrides[c.row].map { MemoryCandidate(row: c.row, tokens: $0, length: $0.count, score: c.score) } ?? c
        }
        if denseCandidates[layer] == nil { denseCandidates[layer] = Array(repeating: nil, count: samples.count) }
        denseCandidates[layer]![b] = found
        return found
    }

    /// L_sim = mean over memory layers and answer tokens of −σ_t (method.md §6).
    public var similarityLoss: Double { answerTokens > 0 ? similaritySum / Double(answerTokens) : 0 }
    /// L_div: mean over memory layers and answer tokens of the selection-weighted mean off-diagonal
    /// cosine among the valid candidates' entry vectors (no gradient: the scores are inputs here).
    public var diversityLoss: Double { diversityTokens > 0 ? diversitySum / Double(diversityTokens) : 0 }

    /// q̄ after decoder layer `layer`: the mean of MemoryNorm(h) over the sample's prompt positions
    /// seen so far (chunked prefill adds chunk by chunk); nil before any prompt position.
    public func queryState(layer: Int, sample: Int) -> [Float]? {
        guard let count = queryCounts[layer]?[sample], count > 0, let sum = querySums[layer]?[sample] else { return nil }
        return sum.map { Float($0 / Double(count)) }
    }

    func addQuery(layer: Int, sample: Int, _ m: UnsafePointer<Float>, dim: Int) {
        if querySums[layer] == nil {
            querySums[layer] = Array(repeating: Array(repeating: 0, count: dim), count: samples.count)
            queryCounts[layer] = Array(repeating: 0, count: samples.count)
        }
        for i in 0..<dim { querySums[layer]![sample][i] += Double(m[i]) }
        queryCounts[layer]![sample] += 1
    }
}
