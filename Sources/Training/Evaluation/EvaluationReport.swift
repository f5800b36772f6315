/// The counts behind the accuracies of one condition (memory off, on, or the oracle).
public struct ModeSummary: Sendable, Equatable {
    public var items = 0
    /// Greedy answers judged right by each judge.
    public var startswith = 0, exact = 0, contains = 0
    /// Multiple-choice items, and those whose most likely option is the gold one.
    public var choiceItems = 0, choiceCorrect = 0

    public init() {}

    /// The headline accuracy: `startswith` (the seed's judge); nil without items.
    public var accuracy: Double? { fraction(startswith, items) }
    public var exactAccuracy: Double? { fraction(exact, items) }
    public var containsAccuracy: Double? { fraction(contains, items) }
    /// Multiple-choice accuracy by option log-likelihood; nil without multiple-choice items.
    public var choiceAccuracy: Double? { fraction(choiceCorrect, choiceItems) }

    mutating func add(_ mode: ModeOutcome, choiceCorrect correct: Bool?) {
        items += 1
        if mode.judgement.startswith { startswith += 1 }
        if mode.judgement.exact { exact += 1 }
        if mode.judgement.contains { contains += 1 }
        if let correct {
            choiceItems += 1
            if correct { choiceCorrect += 1 }
        }
    }
}

/// Recall@C and selection accuracy over the items whose fact is in the bank, per memory layer.
public struct RetrievalSummary: Sendable, Equatable {
    /// The decoder layers followed by a memory step, in order.
    public let layers: [Int]
    /// Items with a gold row.
    public var goldItems = 0
    /// Per memory layer: items whose gold row was a candidate, and whose gold row was selected.
    public var recalled: [Int], selected: [Int]

    public init(layers: [Int]) {
        self.layers = layers
        recalled = Array(repeating: 0, count: layers.count)
        selected = Array(repeating: 0, count: layers.count)
    }

    /// At the first memory layer (the dense retriever's candidates differ per layer; the others' do not).
    public var recall: Double? { recall(at: 0) }
    public var selection: Double? { selection(at: 0) }
    /// At the memory layer with this index among `layers`.
    public func recall(at index: Int) -> Double? { index < layers.count ? fraction(recalled[index], goldItems) : nil }
    public func selection(at index: Int) -> Double? { index < layers.count ? fraction(selected[index], goldItems) : nil }
}

/// Every count of a set of items: the whole evaluation, or the items of one predicate.
public struct EvaluationSummary: Sendable, Equatable {
    public var items = 0
    /// nil when the condition was not run.
    public var memoryOff: ModeSummary?
    public var memoryOn = ModeSummary()
    public var oracle: ModeSummary?
    /// Retrieval-augmented prompting, and the prompt tokens it added over its items.
    public var rag: ModeSummary?
    public var ragPromptTokens = 0
    public var retrieval: RetrievalSummary

    /// The mean prompt tokens retrieval-augmented prompting added per item.
    public var ragPromptTokensPerItem: Double? { rag.flatMap { $0.items > 0 ? Double(ragPromptTokens) / Double($0.items) : nil } }

    public init(layers: [Int]) { retrieval = RetrievalSummary(layers: layers) }

    mutating func add(_ outcome: ItemOutcome) {
        items += 1
        memoryOn.add(outcome.memoryOn, choiceCorrect: outcome.choiceCorrect(outcome.memoryOn))
        if let off = outcome.memoryOff { memoryOff = memoryOff ?? ModeSummary(); memoryOff!.add(off, choiceCorrect: outcome.choiceCorrect(off)) }
        if let o = outcome.oracle { oracle = oracle ?? ModeSummary(); oracle!.add(o, choiceCorrect: outcome.choiceCorrect(o)) }
        if let r = outcome.rag {
            rag = rag ?? ModeSummary()
            rag!.add(r.answer, choiceCorrect: outcome.choiceCorrect(r.answer))
            ragPromptTokens += r.addedPromptTokens
        }
        guard outcome.goldRow != nil else { return }
        retrieval.goldItems += 1
        for i in retrieval.layers.indices {
            if outcome.recalled(at: i) == true { retrieval.recalled[i] += 1 }
            if outcome.selected(at: i) == true { retrieval.selected[i] += 1 }
        }
    }
}

/// The result of an evaluation: each item's outcome, the counts over all items and per predicate
/// (of the gold row), and the flat `eval_*` metrics for metrics.jsonl.
public struct EvaluationReport: Sendable {
    public let outcomes: [ItemOutcome]
    public let memoryLayers: [Int]
    public let overall: EvaluationSummary
    /// Items whose gold row has a predicate, grouped by it.
    public let byPredicate: [String: EvaluationSummary]

    public init(outcomes: [ItemOutcome], memoryLayers: [Int]) {
        self.outcomes = outcomes
        self.memoryLayers = memoryLayers
        var overall = EvaluationSummary(layers: memoryLayers)
        var byPredicate: [String: EvaluationSummary] = [:]
        for outcome in outcomes {
            overall.add(outcome)
            if let p = outcome.predicate { byPredicate[p, default: EvaluationSummary(layers: memoryLayers)].add(outcome) }
        }
        self.overall = overall
        self.byPredicate = byPredicate
    }

    /// `eval_accuracy` (memory on, startswith), `_exact`, `_contains`, each also `_memory_off`,
    /// `_oracle` and `_rag` (with `eval_rag_prompt_tokens`, the mean added); `eval_mc_accuracy` (likewise); `eval_recall`, `eval_selection` (first memory layer)
    /// and `eval_recall_layer_ℓ`, `eval_selection_layer_ℓ`; the counts. A value without items is left out.
    public var metrics: [String: Double] {
        let s = overall
        var m: [String: Double] = ["eval_items": Double(s.items), "eval_gold_items": Double(s.retrieval.goldItems),
                                   "eval_mc_items": Double(s.memoryOn.choiceItems)]
        let modes: [(String, ModeSummary?)] = [("", s.memoryOn), ("_memory_off", s.memoryOff), ("_oracle", s.oracle), ("_rag", s.rag)]
        for (suffix, mode) in modes {
            guard let mode else { continue }
            m["eval_accuracy" + suffix] = mode.accuracy
            m["eval_accuracy_exact" + suffix] = mode.exactAccuracy
            m["eval_accuracy_contains" + suffix] = mode.containsAccuracy
            m["eval_mc_accuracy" + suffix] = mode.choiceAccuracy
        }
        m["eval_rag_prompt_tokens"] = s.ragPromptTokensPerItem
        m["eval_recall"] = s.retrieval.recall
        m["eval_selection"] = s.retrieval.selection
        for (i, layer) in memoryLayers.enumerated() {
            m["eval_recall_layer_\(layer)"] = s.retrieval.recall(at: i)
            m["eval_selection_layer_\(layer)"] = s.retrieval.selection(at: i)
        }
        return m
    }
}

func fraction(_ count: Int, _ total: Int) -> Double? { total > 0 ? Double(count) / Double(total) : nil }
