/// What one memory layer read for an item: the candidates fine selection chose from and its choice.
public struct LayerReading: Sendable, Equatable {
    /// The decoder layer ℓ the memory step follows.
    public let layer: Int
    /// The candidate rows (at most C) in retrieval order.
    public let candidates: [Int]
    /// The row the argmax chose at the first answer position (the last position before the answer,
    /// whose output predicts its first token); nil with no candidate.
    public let selected: Int?

    public init(layer: Int, candidates: [Int], selected: Int?) {
        self.layer = layer
        self.candidates = candidates
        self.selected = selected
    }
}

/// One item under one condition: memory off, memory on, or the oracle (only the gold row).
public struct ModeOutcome: Sendable, Equatable {
    /// The greedy answer's text (special tokens and the final end-of-sequence id left out).
    public let answer: String
    /// The generated ids, an end-of-sequence id included when one was chosen.
    public let ids: [Int32]
    public let judgement: AnswerJudgement
    /// Multiple choice: Σ log p(option tokens | prompt) for each option; empty for open questions.
    public let optionLogLikelihoods: [Double]
    /// Per memory layer, in layer order; empty with memory off.
    public let layers: [LayerReading]

    public init(answer: String, ids: [Int32], judgement: AnswerJudgement, optionLogLikelihoods: [Double], layers: [LayerReading]) {
        self.answer = answer
        self.ids = ids
        self.judgement = judgement
        self.optionLogLikelihoods = optionLogLikelihoods
        self.layers = layers
    }

    /// The option with the highest log-likelihood (the first on a tie).
    public var choice: Int? {
        optionLogLikelihoods.indices.max { optionLogLikelihoods[$0] < optionLogLikelihoods[$1] || (optionLogLikelihoods[$0] == optionLogLikelihoods[$1] && $0 > $1) }
    }
}

/// Retrieval-augmented prompting: the plain backbone with the top retrieved row's text in the prompt.
public struct RAGOutcome: Sendable, Equatable {
    /// The row whose text was put in the prompt.
    public let row: Int
    /// Prompt tokens the text added (memory on adds none: the row enters through the fusion).
    public let addedPromptTokens: Int
    public let answer: ModeOutcome
}

/// One item evaluated under every requested condition.
public struct ItemOutcome: Sendable {
    public let item: EvaluationItem
    /// The bank row of the item's fact uuid; nil when it names none in the bank.
    public let goldRow: Int?
    /// The gold row's predicate, when it has one.
    public let predicate: String?
    public let memoryOff: ModeOutcome?
    public let memoryOn: ModeOutcome
    /// Only the gold row handed to the fusion; nil without a gold row or when not asked.
    public let oracle: ModeOutcome?
    /// Retrieval-augmented prompting; nil when not asked or nothing was retrieved.
    public let rag: RAGOutcome?

    public init(item: EvaluationItem, goldRow: Int?, predicate: String?, memoryOff: ModeOutcome?, memoryOn: ModeOutcome, oracle: ModeOutcome?,
                rag: RAGOutcome? = nil) {
        self.item = item
        self.goldRow = goldRow
        self.predicate = predicate
        self.memoryOff = memoryOff
        self.memoryOn = memoryOn
        self.oracle = oracle
        self.rag = rag
    }

    /// The gold row is among the first memory layer's candidates (recall@C); nil without a gold row.
    public var recalled: Bool? { recalled(at: 0) }
    /// Fine selection chose the gold row at the first answer position; nil without a gold row.
    public var selected: Bool? { selected(at: 0) }

    /// Recall at the memory layer with this index among the memory layers.
    public func recalled(at index: Int) -> Bool? {
        guard let goldRow, index < memoryOn.layers.count else { return nil }
        return memoryOn.layers[index].candidates.contains(goldRow)
    }

    public func selected(at index: Int) -> Bool? {
        guard let goldRow, index < memoryOn.layers.count else { return nil }
        return memoryOn.layers[index].selected == goldRow
    }

    /// Whether the multiple-choice answer of `mode` is the gold option; nil for an open question.
    public func choiceCorrect(_ mode: ModeOutcome) -> Bool? {
        guard let correct = item.correctOption, !mode.optionLogLikelihoods.isEmpty else { return nil }
        return mode.choice == correct
    }
}
