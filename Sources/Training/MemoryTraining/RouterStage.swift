import Compute
import Foundation
import JSON
import Memory
import Qwen3

/// One labelled router query (method.md §7): `{"query", "target_indices", "target_scores"}`.
public struct RouterExample: Sendable {
    public let query: String
    public let rows: [Int]
    public let scores: [Float]
    public let line: Int

    /// The labelled queries of a JSONL file; rows must be filled rows of the bank with a cell.
    public static func load(_ url: URL, bank: MemoryBank, skipInvalid: Bool) throws -> (examples: [RouterExample], problems: [String]) {
        var examples: [RouterExample] = [], problems: [String] = []
        for (line, object) in try readJSONLines(url) {
            do {
                examples.append(try parse(object, line: line, bank: bank))
            } catch {
                let problem = "\(url.path):\(line): \(error)"
                guard skipInvalid else { throw ConfigError(problem) }
                problems.append(problem)
            }
        }
        if examples.isEmpty { throw ConfigError("\(url.path): no labelled queries") }
        return (examples, problems)
    }

    /// One labelled query as `load` reads it: {"query", "target_indices", "target_scores"}, newline-terminated.
    public static func jsonLine(query: String, targets: [(row: Int, score: Float)]) -> String {
        JSONValue.object([
            ("query", .string(query)),
            ("target_indices", .array(targets.map { .number(String($0.row)) })),
            ("target_scores", .array(targets.map { .number(jsonNumber($0.score)) })),
        ]).pythonJSON() + "\n"
    }

    static func parse(_ object: JSONValue, line: Int, bank: MemoryBank) throws -> RouterExample {
        guard let query = object["query"]?.stringValue else { throw ConfigError("missing string field \"query\"") }
        guard let rows = object["target_indices"]?.arrayValue?.map({ $0.intValue }), !rows.isEmpty, !rows.contains(nil) else {
            throw ConfigError("\"target_indices\" must be a non-empty array of bank rows")
        }
        guard let scores = object["target_scores"]?.arrayValue?.map({ $0.doubleValue }), scores.count == rows.count, !scores.contains(nil) else {
            throw ConfigError("\"target_scores\" must be an array of \(rows.count) numbers, one per target row")
        }
        for row in rows.map({ $0! }) {
            guard row >= 0, row < bank.knowledgeNum else { throw ConfigError("target row \(row) is outside the bank (0..<\(bank.knowledgeNum))") }
            guard bank.cells[row] >= 0 else { throw ConfigError("target row \(row) is empty or has no cell in the bank") }
        }
        let values = scores.map { Float($0!) }
        guard values.allSatisfy(\.isFinite) else { throw ConfigError("\"target_scores\" holds a number that is not finite") }
        return RouterExample(query: query, rows: rows.map { $0! }, scores: values, line: line)
    }
}

/// The router stage (method.md §8): the MemoryGates alone, trained by the router loss on labelled
/// queries. The backbone is frozen and the gate is the only thing that changes, so each query's q̄
/// per memory layer is computed once, by the same forward pass generation runs. In the memory stage
/// the same loss replays router data (`replay`), with q̄ computed anew as MemoryNorm trains there.
final class RouterStage: MemoryTrainingStage {
    let memory: MemoryModel
    let keys: Tensor
    let temperature: Float
    let examples: [RouterExample]
    /// Per memory layer, q̄ of every example [examples, D].
    let queryStates: [Tensor]
    let dense: DenseRetriever
    let validation: [RouterExample]
    let validationStates: [Tensor]
    let backbone: Qwen3Model
    let prompt: (String) throws -> [Int32]

    /// `precompute`: compute every example's q̄ now (the router stage); else only `replay` is used.
    init(backbone: Qwen3Model, memory: MemoryModel, bank: MemoryBank, examples: [RouterExample], validation: [RouterExample],
         prompt: @escaping (String) throws -> [Int32], temperature: Double, precompute: Bool = true) throws {
        guard let dense = try memory.denseRetriever(bank: bank), let keys = bank.keys else {
            throw ConfigError("the router stage trains the dense retriever's MemoryGate: set model.retriever=dense and use a bank with keys")
        }
        self.memory = memory
        self.dense = dense
        self.keys = keys
        self.temperature = Float(temperature)
        self.examples = examples
        self.validation = validation
        self.backbone = backbone
        self.prompt = prompt
        queryStates = precompute ? try Self.queryStates(examples, backbone: backbone, memory: memory, prompt: prompt) : []
        validationStates = try Self.queryStates(validation, backbone: backbone, memory: memory, prompt: prompt)
    }

    /// q̄ of each example's prompt after every memory layer: the memory steps run as in generation
    /// (with no candidate they change nothing, as before fusion training).
    static func queryStates(_ examples: [RouterExample], backbone: Qwen3Model, memory: MemoryModel,
                            prompt: (String) throws -> [Int32]) throws -> [Tensor] {
        let D = backbone.config.hiddenSize
        let states = memory.layers.map { _ in Tensor(zeros: [examples.count, D]) }
        for (e, example) in examples.enumerated() {
            let ids = try prompt(example.query)
            try backbone.config.checkContext(ids.count, what: "router query at line \(example.line)")
            let context = MemoryBatchContext(samples: [MemorySample(candidates: [], promptLength: ids.count)], selection: .argmax)
            _ = backbone.forward(ids, cache: KVCache(config: backbone.config, capacity: ids.count), logits: .none,
                                 chunkSize: max(512, ids.count), afterLayer: try memory.layerHook(context))
            for (i, layer) in memory.layers.enumerated() {
                let q = context.queryState(layer: layer.layer, sample: 0)!
                (states[i].data + e * D).update(from: q, count: D)
            }
        }
        return states
    }

    var sampleCount: Int { examples.count }
    var parameters: [MemoryParameter] { memory.gateParameters }

    func accumulate(_ microBatches: [[Int]], step: Int, rng: inout SeededGenerator) throws -> StageLosses {
        let stepExamples = microBatches.reduce(0) { $0 + $1.count }
        var loss = 0.0
        for batch in microBatches {
            loss += lossAndGradient(batch, states: queryStates, rows: batch, weight: Float(batch.count) / Float(stepExamples))
        }
        return StageLosses(total: loss, router: loss, tokens: stepExamples)
    }

    /// The router loss of `count` examples taken in turn from `step` (so a resumed run replays the
    /// same ones), with their q̄ from the memory as it is now; accumulates the gates' gradients.
    func replay(step: Int, count: Int) throws -> Double {
        let batch = (0..<min(count, examples.count)).map { (step * count + $0) % examples.count }
        let states = try Self.queryStates(batch.map { examples[$0] }, backbone: backbone, memory: memory, prompt: prompt)
        return lossAndGradient(batch, states: states, rows: Array(batch.indices), weight: 1)
    }

    /// The mean router loss over the examples `batch` and the memory layers, times `weight`, and its
    /// gradient into the gates; example `batch[b]`'s q̄ is row `rows[b]` of `states[layer]`.
    private func lossAndGradient(_ batch: [Int], states: [Tensor], rows: [Int], weight: Float) -> Double {
        let M = memory.layers.count, D = states[0].shape[1]
        let targets = batch.map { e in RouterLoss.Target(cells: examples[e].rows.map { Int(memoryCell($0)) }, scores: examples[e].scores) }
        let scale = weight / Float(M)
        var loss = 0.0
        for i in 0..<M {
            let q = Tensor(zeros: [batch.count, D])
            for (b, r) in rows.enumerated() { (q.data + b * D).update(from: states[i].data + r * D, count: D) }
            let gate = memory.gate(forLayerAt: i)!
            let activations = gate.project(q)
            let (batchLoss, dScores) = RouterLoss.forwardBackward(scores: gate.scores(activations, keys: keys), targets: targets,
                                                                  temperature: temperature)
            for d in dScores { for k in 0..<d.count { d.data[k] *= scale } }
            gate.backward(activations, dScores: dScores, keys: keys)
            loss += batchLoss * Double(scale)
        }
        return loss
    }

    private func memoryCell(_ row: Int) -> Int32 { dense.grid.cells[row] }

    /// Router recall@C on the validation queries: the share whose first target row is among the
    /// gate's C candidates, averaged over the memory layers (`eval_recall`).
    func validate() throws -> [String: Double] {
        guard !validation.isEmpty else { return [:] }
        var hits = 0
        let D = validationStates[0].shape[1]
        for i in memory.layers.indices {
            for (e, example) in validation.enumerated() {
                let q = Array(UnsafeBufferPointer(start: validationStates[i].data + e * D, count: D))
                if dense.retrieve(queryState: q, step: i).contains(where: { $0.row == example.rows[0] }) { hits += 1 }
            }
        }
        return ["eval_recall": Double(hits) / Double(validation.count * memory.layers.count)]
    }
}
