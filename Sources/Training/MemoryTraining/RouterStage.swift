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
/// per memory layer is computed once, by the same forward pass generation runs.
final class RouterStage: MemoryTrainingStage {
    let memory: MemoryModel
    let keys: Tensor
    let side: Int
    let temperature: Float
    let examples: [RouterExample]
    /// Per memory layer, q̄ of every example [examples, D].
    let queryStates: [Tensor]
    let dense: DenseRetriever
    let validation: [RouterExample]
    let validationStates: [Tensor]

    init(backbone: Qwen3Model, memory: MemoryModel, bank: MemoryBank, examples: [RouterExample], validation: [RouterExample],
         prompt: (String) throws -> [Int32], temperature: Double) throws {
        guard let dense = try memory.denseRetriever(bank: bank), let keys = bank.keys else {
            throw ConfigError("the router stage trains the dense retriever's MemoryGate: set model.retriever=dense and use a bank with keys")
        }
        self.memory = memory
        self.dense = dense
        self.keys = keys
        side = bank.gridSide
        self.temperature = Float(temperature)
        self.examples = examples
        self.validation = validation
        queryStates = try Self.queryStates(examples, backbone: backbone, memory: memory, prompt: prompt)
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

    func accumulate(_ microBatches: [[Int]], rng: inout SeededGenerator) throws -> StageLosses {
        let stepExamples = microBatches.reduce(0) { $0 + $1.count }
        let M = memory.layers.count, D = queryStates[0].shape[1]
        var loss = 0.0
        for batch in microBatches {
            let targets = batch.map { e in
                RouterLoss.Target(cells: examples[e].rows.map { Int(memoryCell($0)) }, scores: examples[e].scores)
            }
            // The step's loss is the mean over its queries and the memory layers.
            let weight = Float(batch.count) / Float(stepExamples * M)
            for i in 0..<M {
                let q = Tensor(zeros: [batch.count, D])
                for (b, e) in batch.enumerated() { (q.data + b * D).update(from: queryStates[i].data + e * D, count: D) }
                let gate = memory.gate(forLayerAt: i)!
                let activations = gate.project(q)
                let (batchLoss, dScores) = RouterLoss.forwardBackward(scores: gate.scores(activations, keys: keys), targets: targets,
                                                                      temperature: temperature)
                for d in dScores { for k in 0..<d.count { d.data[k] *= weight } }
                gate.backward(activations, dScores: dScores, keys: keys)
                loss += batchLoss * Double(weight)
            }
        }
        return StageLosses(total: loss, router: loss, tokens: stepExamples)
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
