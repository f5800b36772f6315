import JSON

/// The report as one JSON object (for `eval --json` and logs): the counts and fractions of every
/// condition, retrieval per memory layer, the same per predicate, the flat metrics and, when asked,
/// every item's answers and what its memory layers read.
extension EvaluationReport {
    public func json(includeItems: Bool = false) -> JSONValue {
        var pairs = Self.summaryPairs(overall)
        pairs.append(("memory_layers", .array(memoryLayers.map(Self.int))))
        pairs.append(("predicates", .object(byPredicate.keys.sorted().map { ($0, .object(Self.summaryPairs(byPredicate[$0]!))) })))
        pairs.append(("metrics", .object(metrics.keys.sorted().map { ($0, Self.number(metrics[$0])) })))
        if includeItems { pairs.append(("outcomes", .array(outcomes.map(Self.outcome)))) }
        return .object(pairs)
    }

    static func summaryPairs(_ s: EvaluationSummary) -> [(String, JSONValue)] {
        var pairs: [(String, JSONValue)] = [("items", int(s.items)), ("gold_items", int(s.retrieval.goldItems)),
                                            ("mc_items", int(s.memoryOn.choiceItems))]
        if let off = s.memoryOff { pairs.append(("memory_off", mode(off))) }
        pairs.append(("memory_on", mode(s.memoryOn)))
        if let oracle = s.oracle { pairs.append(("oracle", mode(oracle))) }
        if let rag = s.rag { pairs.append(("rag", mode(rag))); pairs.append(("rag_prompt_tokens", number(s.ragPromptTokensPerItem))) }
        let r = s.retrieval
        pairs.append(("retrieval", .object([
            ("recall", number(r.recall)), ("selection", number(r.selection)),
            ("layers", .array(r.layers.indices.map { i in
                .object([("layer", int(r.layers[i])), ("recalled", int(r.recalled[i])), ("selected", int(r.selected[i])),
                         ("recall", number(r.recall(at: i))), ("selection", number(r.selection(at: i)))])
            })),
        ])))
        return pairs
    }

    static func mode(_ m: ModeSummary) -> JSONValue {
        .object([("items", int(m.items)), ("accuracy", number(m.accuracy)), ("accuracy_exact", number(m.exactAccuracy)),
                 ("accuracy_contains", number(m.containsAccuracy)), ("startswith", int(m.startswith)), ("exact", int(m.exact)),
                 ("contains", int(m.contains)), ("mc_items", int(m.choiceItems)), ("mc_correct", int(m.choiceCorrect)),
                 ("mc_accuracy", number(m.choiceAccuracy))])
    }

    static func outcome(_ o: ItemOutcome) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("source", .string(o.item.source)), ("question", .string(o.item.question)),
                                            ("gold", .string(o.item.answer)), ("fact_uuid", o.item.factUUID.map { .string($0) } ?? .null),
                                            ("gold_row", o.goldRow.map(int) ?? .null), ("predicate", o.predicate.map { .string($0) } ?? .null)]
        func add(_ name: String, _ m: ModeOutcome?) {
            guard let m else { return }
            var fields: [(String, JSONValue)] = [("answer", .string(m.answer)), ("startswith", .bool(m.judgement.startswith)),
                                                 ("exact", .bool(m.judgement.exact)), ("contains", .bool(m.judgement.contains))]
            if !m.optionLogLikelihoods.isEmpty {
                fields.append(("option_log_likelihoods", .array(m.optionLogLikelihoods.map { number($0) })))
                fields.append(("choice", m.choice.map { .string(o.item.options[$0]) } ?? .null))
            }
            if !m.layers.isEmpty {
                fields.append(("layers", .array(m.layers.map { l in
                    .object([("layer", int(l.layer)), ("candidates", .array(l.candidates.map(int))), ("selected", l.selected.map(int) ?? .null)])
                })))
            }
            pairs.append((name, .object(fields)))
        }
        add("memory_off", o.memoryOff)
        add("memory_on", o.memoryOn)
        add("oracle", o.oracle)
        if let rag = o.rag {
            add("rag", rag.answer)
            pairs.append(("rag_row", int(rag.row)))
            pairs.append(("rag_prompt_tokens", int(rag.addedPromptTokens)))
        }
        return .object(pairs)
    }

    static func int(_ n: Int) -> JSONValue { .number(String(n)) }
    static func number(_ x: Double?) -> JSONValue { x.map { .number(jsonNumber($0)) } ?? .null }
}
