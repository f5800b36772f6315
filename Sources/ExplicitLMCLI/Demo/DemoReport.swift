import Foundation
import JSON
import Memory
import Training

/// What `explicitlm demo` measured, as the printed table, report.md, eval.jsonl and the chart.
struct DemoReport {
    struct RetrieverRow {
        let retriever: String
        /// The held-out questions (trained templates) and the template no training used (lexical only).
        let report: EvaluationReport
        let unseen: EvaluationReport?
        /// Edit success and locality; measured with the lexical retriever only.
        var edits: EditSummary?
    }

    let rows: [RetrieverRow]
    let bank: MemoryBank
    let edits: [FactEdit]
    let seconds: Double
    let limit: Int?

    private static func f(_ x: Double?) -> String { EvalTable.f(x) }

    /// One line per retriever: accuracy (startswith) with memory off and on, the gold row handed to
    /// the fusion, recall@C, selection, the unseen template, edits, and RAG with the same frozen model.
    func tableRows() -> [[String]] {
        var lines = [["retriever", "off", "on", "gold row", "recall@C", "select", "unseen", "edit ok", "locality",
                      "RAG", "RAG unseen", "RAG edit ok", "RAG tokens"]]
        for r in rows {
            let s = r.report.overall, u = r.unseen?.overall
            lines.append([r.retriever, Self.f(s.memoryOff?.accuracy), Self.f(s.memoryOn.accuracy), Self.f(s.oracle?.accuracy),
                          Self.f(s.retrieval.recall), Self.f(s.retrieval.selection), Self.f(u?.memoryOn.accuracy),
                          Self.f(r.edits?.memory.success), Self.f(r.edits?.memory.locality), Self.f(s.rag?.accuracy),
                          Self.f(u?.rag?.accuracy), Self.f(r.edits?.rag.success),
                          s.ragPromptTokensPerItem.map { String(format: "%.1f", $0) } ?? "-"])
        }
        return lines
    }

    func table() -> String {
        let items = rows.first?.report.overall.items ?? 0
        return "held-out entities: \(items) questions (trained templates) and \(rows.first?.unseen?.overall.items ?? 0) of the unseen template; "
            + "accuracy = the answer starts with the gold one; C = \(rows.first?.report.outcomes.first?.memoryOn.layers.first?.candidates.count ?? 0)\n\n"
            + EvalTable.table(tableRows())
    }

    /// A few held-out answers that came from the bank (right with memory on, wrong without, read
    /// from the gold row), one per predicate, with the row they read.
    func examples(_ report: EvaluationReport) throws -> String {
        var shown: Set<String> = [], text = "examples (held-out entities, memory on; the row the memory layers read):\n"
        for outcome in report.outcomes where outcome.memoryOn.judgement.startswith && outcome.memoryOff?.judgement.startswith == false {
            guard let predicate = outcome.predicate, let row = outcome.memoryOn.layers.first?.selected, row == outcome.goldRow,
                  shown.insert(predicate).inserted, let fact = try bank.row(row) else { continue }
            text += "  Q: \(outcome.item.question)\n  A: \(outcome.memoryOn.answer)   (memory off: \(outcome.memoryOff?.answer ?? "-"))\n"
            text += "     row \(row): \(fact.text)\n"
        }
        if let edit = edits.first {
            text += "  edited row \(edit.row) (\(edit.uuid)): \(edit.oldObject) → \(edit.newObject): \"\(edit.newText)\"\n"
        }
        return text
    }

    /// summary.json: the table's numbers, for scripts and the CI's fast run.
    func summary() -> String {
        func n(_ x: Double?) -> JSONValue { x.map { .number(jsonNumber($0)) } ?? .null }
        let retrievers: [(String, JSONValue)] = rows.map { r in
            let s = r.report.overall, u = r.unseen?.overall
            return (r.retriever, .object([
                ("items", .number(String(s.items))), ("unseen_items", .number(String(u?.items ?? 0))),
                ("accuracy_memory_off", n(s.memoryOff?.accuracy)), ("accuracy_memory_on", n(s.memoryOn.accuracy)),
                ("accuracy_gold_row", n(s.oracle?.accuracy)), ("recall", n(s.retrieval.recall)), ("selection", n(s.retrieval.selection)),
                ("accuracy_unseen_template", n(u?.memoryOn.accuracy)), ("accuracy_rag", n(s.rag?.accuracy)),
                ("accuracy_rag_unseen_template", n(u?.rag?.accuracy)), ("rag_prompt_tokens", n(s.ragPromptTokensPerItem)),
                ("edit_success", n(r.edits?.memory.success)), ("locality", n(r.edits?.memory.locality)),
                ("rag_edit_success", n(r.edits?.rag.success)), ("rag_locality", n(r.edits?.rag.locality)),
            ]))
        }
        return JSONValue.object([("seconds", n(seconds)), ("edited_facts", .number(String(edits.count))),
                                 ("retrievers", .object(retrievers))]).pythonJSON() + "\n"
    }

    /// eval.jsonl: one line per held-out question, for other tools.
    func evalLines(_ report: EvaluationReport) throws -> String {
        var out = ""
        for o in report.outcomes {
            let fact = try o.goldRow.flatMap { try bank.row($0) }
            let used = o.memoryOn.layers.compactMap(\.selected).reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
            let fields: [(String, JSONValue)] = [
                ("question", .string(o.item.question)), ("answer", .string(o.item.answer)),
                ("fact_uuid", o.item.factUUID.map { .string($0) } ?? .null), ("row", o.goldRow.map { .number(String($0)) } ?? .null),
                ("predicate", o.predicate.map { .string($0) } ?? .null), ("subject", fact.map { .string($0.subject) } ?? .null),
                ("memory_on", .string(o.memoryOn.answer)), ("memory_off", o.memoryOff.map { .string($0.answer) } ?? .null),
                ("rag", o.rag.map { .string($0.answer.answer) } ?? .null), ("rows_used", .array(used.map { .number(String($0)) })),
            ]
            out += JSONValue.object(fields).pythonJSON() + "\n"
        }
        return out
    }

    /// Accuracy per predicate (lexical retriever): memory off, on, the gold row, RAG.
    func accuracyChart() -> String {
        guard let lexical = rows.first?.report else { return "" }
        let names = lexical.byPredicate.keys.sorted()
        let groups = names.map { lexical.byPredicate[$0]! } + [lexical.overall]
        return SVGBarChart(
            title: "Held-out questions: accuracy by predicate (\(rows.first!.retriever) retriever)", yLabel: "accuracy",
            categories: names + ["all"],
            series: [SVGBarChart.Series(name: "memory off", values: groups.map { $0.memoryOff?.accuracy }),
                     SVGBarChart.Series(name: "memory on", values: groups.map { $0.memoryOn.accuracy }),
                     SVGBarChart.Series(name: "gold row", values: groups.map { $0.oracle?.accuracy }),
                     SVGBarChart.Series(name: "RAG", values: groups.map { $0.rag?.accuracy })]).render()
    }

    func markdown(examples: String) throws -> String {
        var md = "# ExplicitLM demo report\n\n"
        md += "Written by `explicitlm demo` in \(String(format: "%.0f", seconds)) s"
        md += limit.map { " (\($0) questions spread over each evaluation file)" } ?? ""
        md += ". The backbone is frozen; the held-out entities' facts are only in the bank.\n\n"
        let header = tableRows()
        md += "| " + header[0].joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: header[0].count) + "\n"
        for line in header.dropFirst() { md += "| " + line.joined(separator: " | ") + " |\n" }
        md += """

            - **off / on**: accuracy (the answer starts with the gold answer) with the memory off and on; **gold row**: only the \
            gold row handed to the fusion (its ceiling); **recall@C**, **select**: the gold row among the C candidates, and \
            chosen by fine selection.
            - **unseen**: memory on, on a question template no training used (paraphrase robustness).
            - **edit ok**: after \(edits.count) facts were edited in a copy of the bank (`bank-edited/`), answers to them that \
            follow the new object; **locality**: the other answers unchanged.
            - **RAG**: the same frozen backbone with the top retrieved row's text in its prompt; **RAG tokens**: prompt tokens \
            that adds per question (memory on adds none).


            """
        if let lexical = rows.first?.report {
            md += "## Per predicate (\(rows.first!.retriever) retriever)\n\n| predicate | items | off | on | gold row | RAG | recall@C | select |\n|---|---|---|---|---|---|---|---|\n"
            let predicates = lexical.byPredicate.keys.sorted().map { lexical.byPredicate[$0]! }
            for (name, p) in zip(lexical.byPredicate.keys.sorted(), predicates) {
                md += "| \(name) | \(p.items) | \(Self.f(p.memoryOff?.accuracy)) | \(Self.f(p.memoryOn.accuracy)) | \(Self.f(p.oracle?.accuracy)) | "
                    + "\(Self.f(p.rag?.accuracy)) | \(Self.f(p.retrieval.recall)) | \(Self.f(p.retrieval.selection)) |\n"
            }
            // City questions are most of the items: the mean over predicates weighs each predicate once.
            func mean(_ value: (EvaluationSummary) -> Double?) -> Double? {
                let values = predicates.compactMap(value)
                return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
            }
            md += "| mean over predicates | | \(Self.f(mean { $0.memoryOff?.accuracy })) | \(Self.f(mean { $0.memoryOn.accuracy })) | "
                + "\(Self.f(mean { $0.oracle?.accuracy })) | \(Self.f(mean { $0.rag?.accuracy })) | \(Self.f(mean { $0.retrieval.recall })) | "
                + "\(Self.f(mean { $0.retrieval.selection })) |\n"
        }
        md += "\n![accuracy](accuracy.svg)\n\n![training](training.svg)\n\n## Examples\n\n```\n\(examples)```\n"
        return md
    }
}
