import Compute
import Foundation
import Memory
import Qwen3
import Tokenizers

/// Evaluates the explicit memory as method.md §9 asks: every item's greedy answer with memory off,
/// on, and (when asked) with only the gold row handed to the fusion; multiple-choice items by option
/// log-likelihood; recall@C and selection accuracy from what the memory layers read. The memory
/// runs the evaluation forward of §11 (argmax selection, no noise) through the inference hook.
///
/// The training loop can hold one and call `evaluate(_:limit:)` every `training.eval_interval`
/// steps: it reads the memory model's weights as they are at the call.
public final class MemoryEvaluator {
    public struct Settings: Sendable {
        /// Greedy answers stop at an end-of-sequence id or after this many tokens (answers are short facts).
        public var maxNewTokens = 32
        /// Also answer with the plain backbone (generated once per item and kept: the backbone is frozen).
        public var memoryOff = true
        /// Also answer with only the gold row as candidate (the fusion's ceiling, §9).
        public var oracle = false
        /// Also answer with retrieval-augmented prompting: the plain backbone with the top retrieved
        /// row's text before the question (the baseline of the demo: the same frozen model, reading
        /// the fact from its prompt as its reading-comprehension chats taught it).
        public var rag = false
        /// The chat format prompts are rendered in: the tokenizer's own, as training renders them.
        public var template = ChatTemplate.qwen3

        public init(maxNewTokens: Int = 32, memoryOff: Bool = true, oracle: Bool = false, rag: Bool = false, template: ChatTemplate = .qwen3) {
            self.maxNewTokens = maxNewTokens
            self.memoryOff = memoryOff
            self.oracle = oracle
            self.rag = rag
            self.template = template
        }
    }

    public let memory: MemoryModel
    public let bank: MemoryBank
    public let tokenizer: BPETokenizer
    public let eosTokenIds: Set<Int32>
    public var settings: Settings
    /// The query-text retriever (lexical, encoder, hybrid); nil under the dense retriever, which
    /// reads the query state inside the forward pass.
    public let retriever: MemoryRetriever?
    /// Memory-off outcomes by their ids: the backbone is frozen in every stage (method §1), so a
    /// training loop's later evaluations reuse them instead of generating again.
    private var plain: [PlainKey: ModeOutcome] = [:]
    private struct PlainKey: Hashable {
        let input: [Int32], options: [[Int32]], maxNewTokens: Int
    }

    /// `retriever`: the query-text retriever to use; by default lexical BM25 when the memory's
    /// retriever is lexical. Encoder and hybrid need one built with the bank's embedder.
    public init(memory: MemoryModel, bank: MemoryBank, tokenizer: BPETokenizer, eosTokenIds: Set<Int32>,
                retriever: MemoryRetriever? = nil, settings: Settings = Settings()) throws {
        guard settings.maxNewTokens >= 0 else { throw EvaluationError("max new tokens \(settings.maxNewTokens) must be ≥ 0") }
        guard memory.config.knowledgeLength == bank.knowledgeLength else {
            throw EvaluationError("the memory's knowledge_length \(memory.config.knowledgeLength) differs from the bank's \(bank.knowledgeLength) (\(bank.url.path))")
        }
        let kind = memory.config.retriever
        if kind == .dense {
            guard retriever == nil else { throw EvaluationError("the memory retrieves densely (its MemoryGate); a query-text retriever would not be used") }
            self.retriever = nil
        } else if let retriever {
            self.retriever = retriever
        } else {
            guard kind == .lexical else {
                throw EvaluationError("the \(kind.rawValue) retriever needs the bank's embedder: pass a MemoryRetriever built with it")
            }
            self.retriever = try MemoryRetriever(bank: bank, retriever: .lexical, embedder: nil, count: memory.config.numCandidates)
        }
        self.memory = memory
        self.bank = bank
        self.tokenizer = tokenizer
        self.eosTokenIds = eosTokenIds
        self.settings = settings
    }

    /// Ids that end an answer: the model's end-of-sequence ids (generation_config.json, config.json)
    /// and the chat format's end of turn.
    public static func answerEnds(modelDirectory: URL, backbone: Qwen3Model, tokenizer: BPETokenizer) throws -> Set<Int32> {
        try Qwen3Model.eosTokenIds(directory: modelDirectory, config: backbone.config).union(tokenizer.stopTokenIds)
    }

    /// The first `limit` items (all when nil), evaluated in order: a deterministic subset, so that
    /// evaluations at different steps are comparable. `progress` sees (done, total) after each item.
    public func evaluate(_ items: [EvaluationItem], limit: Int? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> EvaluationReport {
        let chosen = limit.map { Array(items.prefix(max(0, $0))) } ?? items
        let goldRows = try bank.rowsByUUID()
        let dense = try memory.denseRetriever(bank: bank)
        var predicates: [Int: String] = [:]
        var outcomes: [ItemOutcome] = []
        for item in chosen {
            let gold = item.factUUID.flatMap { goldRows[$0] }
            if let gold, predicates[gold] == nil { predicates[gold] = try bank.row(gold)?.predicate ?? "" }
            let predicate = gold.flatMap { predicates[$0] }.flatMap { $0.isEmpty ? nil : $0 }
            outcomes.append(try outcome(item, goldRow: gold, predicate: predicate, dense: dense))
            progress?(outcomes.count, chosen.count)
        }
        return EvaluationReport(outcomes: outcomes, memoryLayers: memory.layers.map(\.layer))
    }

    /// One item under each condition the settings ask for.
    func outcome(_ item: EvaluationItem, goldRow: Int?, predicate: String?, dense: DenseRetriever?) throws -> ItemOutcome {
        let prepared = try prepare(item)
        let promptLength = prepared.prompt.count
        let onContext: MemoryBatchContext
        var retrieved: [RetrievedRow] = []
        if let dense {
            onContext = MemoryBatchContext(samples: [MemorySample(candidates: [], promptLength: promptLength)], selection: .argmax, dense: dense)
        } else {
            retrieved = try retriever!.retrieve(item.question)
            onContext = MemoryBatchContext(samples: [MemorySample(candidates: retriever!.candidates(retrieved), promptLength: promptLength)],
                                           selection: .argmax)
        }
        let off = settings.memoryOff ? try memoryOff(prepared) : nil
        let on = try run(prepared, context: onContext)
        var oracle: ModeOutcome?
        if settings.oracle, let goldRow {
            let gold = bank.candidate(RetrievedRow(row: goldRow, score: 1))
            oracle = try run(prepared, context: MemoryBatchContext(samples: [MemorySample(candidates: [gold], promptLength: promptLength)],
                                                                   selection: .argmax))
        }
        var rag: RAGOutcome?
        if settings.rag, let top = retrieved.first, let text = try bank.row(top.row)?.text {
            rag = try augmented(item, with: text, row: top.row, promptTokens: prepared.input.count)
        }
        return ItemOutcome(item: item, goldRow: goldRow, predicate: predicate, memoryOff: off, memoryOn: on, oracle: oracle, rag: rag)
    }

    /// The plain backbone with `text` on a line before the last user turn's content: the layout of
    /// the demo's reading-comprehension chats ("fact\nquestion").
    private func augmented(_ item: EvaluationItem, with text: String, row: Int, promptTokens: Int) throws -> RAGOutcome {
        var withFact = item
        guard let last = withFact.messages.lastIndex(where: { $0.role == .user }) else {
            throw EvaluationError("\(item.source): no user turn to put the retrieved fact before")
        }
        withFact.messages[last].content = text + "\n" + withFact.messages[last].content
        let prepared = try prepare(withFact)
        return RAGOutcome(row: row, addedPromptTokens: prepared.input.count - promptTokens, answer: try run(prepared, context: nil))
    }

    private func memoryOff(_ prepared: PreparedItem) throws -> ModeOutcome {
        let key = PlainKey(input: prepared.input, options: prepared.options, maxNewTokens: settings.maxNewTokens)
        if let known = plain[key] {
            return ModeOutcome(answer: known.answer, ids: known.ids, judgement: AnswerJudgement(generated: known.answer, gold: prepared.item.answer),
                               optionLogLikelihoods: known.optionLogLikelihoods, layers: [])
        }
        let outcome = try run(prepared, context: nil)
        plain[key] = outcome
        return outcome
    }

    /// Greedy answer and option log-likelihoods after one prefill; `context` nil is the plain backbone.
    func run(_ prepared: PreparedItem, context: MemoryBatchContext?) throws -> ModeOutcome {
        let backbone = memory.backbone, V = backbone.config.vocabSize
        let hook = try context.map { try memory.layerHook($0) }
        let input = prepared.input
        let cache = KVCache(config: backbone.config, capacity: input.count + min(max(settings.maxNewTokens, 1), 256))
        let first = backbone.forward(input, cache: cache, logits: .last, chunkSize: context?.prefillChunkSize(prompt: input.count) ?? 512,
                                     afterLayer: hook)
        let layers = context.map { readings($0, position: input.count - 1) } ?? []

        var generated: [Int32] = []
        var sampler = Sampler(temperature: 0)
        var logits = first
        while generated.count < settings.maxNewTokens {
            let id = withExtendedLifetime(logits) { sampler.next(logits.data, vocab: V) }
            generated.append(id)
            if eosTokenIds.contains(id) || generated.count >= settings.maxNewTokens { break }
            logits = backbone.forward([id], cache: cache, logits: .last, afterLayer: hook)
        }
        let answerIds = generated.last.map { eosTokenIds.contains($0) } == true ? Array(generated.dropLast()) : generated
        let answer = tokenizer.decode(answerIds, skipSpecialTokens: true)

        // Each option continues the same prefill: the cache is cut back to the prompt between them.
        // (The logits tensors are kept alive while their buffers are read.)
        var likelihoods: [Double] = []
        for option in prepared.options {
            cache.truncate(to: input.count)
            var total = withExtendedLifetime(first) { Self.logProbability(first.data, vocab: V, token: option[0]) }
            if option.count > 1 {
                let rest = backbone.forward(Array(option.dropLast()), cache: cache, logits: .all, afterLayer: hook)
                withExtendedLifetime(rest) {
                    for t in 1..<option.count { total += Self.logProbability(rest.data + (t - 1) * V, vocab: V, token: option[t]) }
                }
            }
            likelihoods.append(total)
        }
        return ModeOutcome(answer: answer, ids: generated, judgement: AnswerJudgement(generated: answer, gold: prepared.item.answer),
                           optionLogLikelihoods: likelihoods, layers: layers)
    }

    /// What each memory layer read for the sequence, with its choice at `position`.
    private func readings(_ context: MemoryBatchContext, position: Int) -> [LayerReading] {
        memory.layers.map { module in
            let candidates = Array((context.candidates(layer: module.layer, sample: 0) ?? []).prefix(memory.config.numCandidates))
            let chosen = context.selected[module.layer]?[0]
            let j = chosen.flatMap { position < $0.count ? $0[position] : nil } ?? -1
            return LayerReading(layer: module.layer, candidates: candidates.map(\.row), selected: j >= 0 && j < candidates.count ? candidates[j].row : nil)
        }
    }

    /// log softmax(logits)[token], in Double.
    static func logProbability(_ logits: UnsafePointer<Float>, vocab: Int, token: Int32) -> Double {
        var largest = -Double.infinity
        for i in 0..<vocab { largest = max(largest, Double(logits[i])) }
        var sum = 0.0
        for i in 0..<vocab { sum += exp(Double(logits[i]) - largest) }
        return Double(logits[Int(token)]) - largest - log(sum)
    }
}
