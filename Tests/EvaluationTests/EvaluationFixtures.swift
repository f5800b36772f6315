import Compute
import Foundation
import Memory
import Qwen3
import TestSupport
import Tokenizers
import Training

/// A tiny random Qwen3 over a byte-level tokenizer (the chat template's special tokens are single
/// tokens), a bank of four facts whose words barely overlap (so BM25's ranking is known), and
/// memory weights whose o_proj is random (so the memory changes the answers).
struct EvaluationWorld {
    let tokenizer: BPETokenizer
    let bank: MemoryBank
    let backbone: Qwen3Model
    let memory: MemoryModel
    /// `<|im_end|>`: the end of an answer.
    let eos: Set<Int32>

    /// subject, predicate, object, uuid; row i is fact i.
    static let facts = [("Peru", "capital", "Lima", "peru"), ("Chile", "capital", "Santiago", "chile"),
                        ("Kenya", "currency", "shilling", "kenya"), ("Japan", "currency", "yen", "japan")]

    init(in work: URL, dense: Bool = false, candidates: Int = 2) throws {
        let folder = try Self.byteTokenizer(in: work)
        let bankTokenizer = try BankTokenizer(url: folder)
        tokenizer = bankTokenizer.tokenizer
        var config = MemoryConfig()
        config.knowledgeNum = 16
        config.knowledgeLength = 32
        config.fusionHeads = 2; config.fusionHeadDim = 8; config.fusionRank = 0
        config.numCandidates = candidates
        var keys: Tensor?
        var rng = SeededGenerator(seed: 11)
        if dense {
            config.retriever = .dense; config.knowledgeDim = 8; config.gateRank = 0
            let k = Tensor(zeros: [2, 4, 4])
            for i in 0..<k.count { k.data[i] = Float(rng.normal()) }
            keys = k
        }
        let rows = Self.facts.enumerated().map { i, f in
            let entry = MemoryRow.entryTokens(sentence: "\(f.0) \(f.1) \(f.2)", object: f.2, tokenizer: bankTokenizer.tokenizer, length: 32)
            return MemoryRow(tokens: entry.tokens, objectLength: entry.objectLength, text: "\(f.0) \(f.1) \(f.2)", uuid: f.3, subject: f.0,
                             predicate: f.1, object: f.2, cell: dense ? Int32(i * 5 % 16) : -1)
        }
        bank = try MemoryBank.create(at: work.appendingPathComponent("bank"), rows: rows, tokenizer: bankTokenizer, config: config, keys: keys)

        var qwen = Qwen3Config()
        qwen.vocabSize = 260; qwen.hiddenSize = 32; qwen.intermediateSize = 64; qwen.numHiddenLayers = 2
        qwen.numAttentionHeads = 2; qwen.numKeyValueHeads = 2; qwen.headDim = 16; qwen.maxPositionEmbeddings = 512
        qwen.tieWordEmbeddings = true
        backbone = try Qwen3Initializer.model(config: qwen, initializerRange: 0.2, seed: 5)
        memory = try MemoryModel(config: config, backbone: backbone)
        memory.initialize(seed: 7)
        for p in memory.parameters where p.name.contains("o_proj") { for i in 0..<p.value.count { p.value.data[i] = Float(rng.normal()) } }
        eos = [tokenizer.id(of: "<|im_end|>")!]
    }

    func evaluator(_ settings: MemoryEvaluator.Settings = .init()) throws -> MemoryEvaluator {
        try MemoryEvaluator(memory: memory, bank: bank, tokenizer: tokenizer, eosTokenIds: eos, settings: settings)
    }

    /// A question as a conversation item, with the gold answer and fact given.
    static func item(_ question: String, answer: String = "Lima", uuid: String?) throws -> EvaluationItem {
        try EvaluationItem(conversation: [ChatMessage(role: .user, content: question), ChatMessage(role: .assistant, content: answer)],
                           factUUID: uuid, source: "test")
    }

    /// What the evaluator should feed: the rendered prompt, then Qwen3's empty think block.
    func input(_ item: EvaluationItem) throws -> (ids: [Int32], promptLength: Int) {
        let prompt = tokenizer.encode(try ChatTemplate.qwen3.render(item.messages, addGenerationPrompt: true))
        return (prompt + tokenizer.encode("<think>\n\n</think>\n\n"), prompt.count)
    }

    /// Plain greedy generation, with the memory hook when a context is given.
    func greedy(_ ids: [Int32], context: MemoryBatchContext?, maxNewTokens: Int = 32) throws -> [Int32] {
        var sampler = Sampler(temperature: 0)
        return Generator(model: backbone, eosTokenIds: eos).generate(
            prompt: ids, maxNewTokens: maxNewTokens, sampler: &sampler, chunkSize: context?.prefillChunkSize(prompt: ids.count) ?? 512,
            afterLayer: try context.map { try memory.layerHook($0) })
    }

    /// The lexical retriever's candidates for a query, as the evaluator should hand them over.
    func lexical(_ query: String) throws -> [MemoryCandidate] {
        let retriever = try MemoryRetriever(bank: bank, retriever: .lexical, embedder: nil, count: memory.config.numCandidates)
        return retriever.candidates(try retriever.retrieve(query))
    }

    /// A tokenizer.json of the 256 byte tokens and the chat's special tokens from id 256 on.
    static func byteTokenizer(in dir: URL) throws -> URL {
        try TinyModel.byteTokenizer(in: dir, added: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    }
}
