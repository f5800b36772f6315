import Compute
import Foundation
import Memory
import Qwen3
import Tokenizers

/// The fusion, memory and joint stages (method.md §8): the frozen backbone with the memory step
/// after every memory layer, trained on the LM loss over the answer tokens (+ the similarity term),
/// with straight-through Gumbel-Softmax selection and the counterfactual swap. Candidates come from
/// the query text (lexical, encoder, hybrid: retrieved once, as the answer never changes them) or
/// from each layer's q̄ (dense, inside the forward pass).
final class LanguageModelStage: MemoryTrainingStage {
    let backbone: Qwen3Model
    let memory: MemoryModel
    let bank: MemoryBank
    let data: MemoryTrainingData
    let samples: [MemoryTrainingSample]
    /// Per sample, the text retriever's rows (empty under the dense retriever).
    let retrieved: [[RetrievedRow]]
    let dense: DenseRetriever?
    /// nil when the stage does not swap (joint, probability 0, or no gold rows).
    let swap: CounterfactualSwap?
    let similarityCoef: Double, diversityCoef: Double
    /// The memory stage's router replay (method §8): the gate trains only with router data covering
    /// the bank, `batchSize` labelled queries a step; nil keeps the gate frozen.
    let replay: RouterStage?
    let replayBatch: Int
    /// The validation samples and their rows (the first `eval_num_samples`).
    let validation: [MemoryTrainingSample]
    let validationRetrieved: [[RetrievedRow]]
    /// Gold rows as stored, read once for the swap.
    private var goldRows: [Int: MemoryRow] = [:]
    /// Kept between steps: it reuses its activation buffers while the batch shape repeats.
    private let backprop: Qwen3Backprop

    init(backbone: Qwen3Model, memory: MemoryModel, bank: MemoryBank, data: MemoryTrainingData,
         samples: [MemoryTrainingSample], validation: [MemoryTrainingSample], retrieve: ([MemoryTrainingSample]) throws -> [[RetrievedRow]],
         swap: CounterfactualSwap?, replay: RouterStage? = nil, config: MemoryTrainingConfig) throws {
        self.backbone = backbone
        backprop = Qwen3Backprop(model: backbone)
        self.memory = memory
        self.bank = bank
        self.data = data
        self.samples = samples
        self.validation = validation
        dense = try memory.denseRetriever(bank: bank)
        retrieved = dense == nil ? try retrieve(samples) : samples.map { _ in [] }
        validationRetrieved = dense == nil ? try retrieve(validation) : validation.map { _ in [] }
        self.swap = swap
        self.replay = replay
        replayBatch = config.batchSize
        similarityCoef = config.similarityLossCoef
        diversityCoef = config.diversityLossCoef
        if swap != nil {
            for row in Set(samples.compactMap(\.goldRow)) { goldRows[row] = try bank.row(row) }
        }
    }

    var sampleCount: Int { samples.count }
    var parameters: [MemoryParameter] { memory.layerParameters + (replay == nil ? [] : memory.gateParameters) }

    /// Sample `i` as this step trains it: swapped with the swap's probability, and its memory sample.
    private func prepare(_ i: Int, rng: inout SeededGenerator) throws -> (MemoryTrainingSample, MemorySample) {
        var sample = samples[i]
        var override: [Int: [Int32]] = [:]
        if let swap, let gold = sample.goldRow, let row = goldRows[gold], let answer = sample.answer,
           let swapped = swap.apply(gold: row, answer: answer, tokenizer: bank.tokenizer.tokenizer, length: bank.knowledgeLength, generator: &rng) {
            sample = try data.replacingAnswer(sample, with: swapped.answer)
            override[gold] = swapped.row.tokens
        }
        let candidates = retrieved[i].map { r in
            override[r.row].map { MemoryCandidate(row: r.row, tokens: $0, length: $0.count, score: r.score) } ?? bank.candidate(r)
        }
        return (sample, MemorySample(candidates: candidates, promptLength: sample.promptLength, rowTokens: override))
    }

    func accumulate(_ microBatches: [[Int]], step: Int, rng: inout SeededGenerator) throws -> StageLosses {
        // Swaps first: they change the answers, and the step's mean is over its answer tokens.
        var prepared: [[(MemoryTrainingSample, MemorySample)]] = []
        for batch in microBatches { prepared.append(try batch.map { try prepare($0, rng: &rng) }) }
        let batches = prepared.map { Self.tokenBatch($0, pad: bank.padTokenId) }
        let stepTokens = batches.reduce(0) { $0 + $1.targets.joined().filter { $0 != CrossEntropy.ignoreIndex }.count }
        guard stepTokens > 0 else { throw ConfigError("an optimizer step without answer tokens") }
        let layers = Float(memory.layers.count)
        var ce = 0.0, similarity = 0.0, diversity = 0.0, answerTokens = 0, diversityTokens = 0, tokens = 0
        for (batch, items) in zip(batches, prepared) {
            var memorySamples = items.map(\.1)
            for b in memorySamples.indices { memorySamples[b].answerMask = batch.targets[b].map { $0 != CrossEntropy.ignoreIndex } }
            let noise = GumbelNoise(generator: rng)
            let context = MemoryBatchContext(samples: memorySamples, selection: .gumbel(noise),
                                             similarityScale: Float(similarityCoef) / (layers * Float(stepTokens)), dense: dense)
            backprop.recompute = Qwen3Backprop.shouldRecompute(config: backbone.config, batch: batch.batchSize, length: batch.sequenceLength)
            let result = backprop.step(batch, mode: try memory.backpropMode(context, batch: batch),
                                                              gradientScale: 1 / Float(stepTokens))
            rng = noise.generatorState!
            ce += result.lossSum
            similarity += context.similaritySum; answerTokens += context.answerTokens
            diversity += context.diversitySum; diversityTokens += context.diversityTokens
            tokens += items.reduce(0) { $0 + $1.0.ids.count }
        }
        let lossCE = ce / Double(stepTokens)
        let lossSimilarity = answerTokens > 0 ? similarity / Double(answerTokens) : 0
        let lossDiversity = diversityTokens > 0 ? diversity / Double(diversityTokens) : 0
        let lossRouter = try replay?.replay(step: step, count: replayBatch)
        return StageLosses(total: lossCE + similarityCoef * lossSimilarity + diversityCoef * lossDiversity + (lossRouter ?? 0),
                           ce: lossCE, similarity: lossSimilarity, diversity: lossDiversity, router: lossRouter, tokens: tokens)
    }

    /// Rows right-padded to the longest, targets where the next token carries the loss.
    static func tokenBatch(_ items: [(MemoryTrainingSample, MemorySample)], pad: Int32) -> TokenBatch {
        let length = items.map { $0.0.ids.count }.max() ?? 0
        let rows = items.map { $0.0.row(length: length, pad: pad) }
        return TokenBatch(inputs: rows.map(\.input), targets: rows.map(\.target))
    }

    /// The answer loss on the validation samples with the memory (evaluation forward: argmax, no
    /// noise, no swap) and without it: `eval_loss`, `eval_loss_memory_off`.
    func validate() throws -> [String: Double] {
        guard !validation.isEmpty else { return [:] }
        // The frozen backbone's loss never changes: computed once.
        if memoryOffLoss == nil { memoryOffLoss = try validationLoss(withMemory: false) }
        return ["eval_loss": try validationLoss(withMemory: true), "eval_loss_memory_off": memoryOffLoss!]
    }
    private var memoryOffLoss: Double?

    /// The mean answer loss over the validation samples, by the evaluation forward.
    private func validationLoss(withMemory: Bool) throws -> Double {
        var sum = 0.0, tokens = 0
        let V = backbone.config.vocabSize
        for (sample, rows) in zip(validation, validationRetrieved) {
            let (_, target) = sample.row(length: sample.ids.count, pad: bank.padTokenId)
            let context = MemoryBatchContext(samples: [MemorySample(candidates: rows.map(bank.candidate), promptLength: sample.promptLength)],
                                             selection: .argmax, dense: dense)
            let logits = backbone.forward(sample.ids, cache: KVCache(config: backbone.config, capacity: sample.ids.count),
                                          chunkSize: max(512, sample.ids.count), afterLayer: withMemory ? try memory.layerHook(context) : nil)
            sum += withExtendedLifetime(logits) {
                target.withUnsafeBufferPointer {
                    CrossEntropy.forwardBackward(logits: logits.data, targets: $0.baseAddress!, dLogits: nil, rows: $0.count, vocab: V).lossSum
                }
            }
            tokens += target.filter { $0 != CrossEntropy.ignoreIndex }.count
        }
        return sum / Double(tokens)
    }
}
