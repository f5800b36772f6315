import Foundation
import Training

/// The evaluation report as readable tables: one row per condition, then one per predicate.
enum EvalTable {
    static func render(_ report: EvaluationReport, candidates: Int) -> String {
        let s = report.overall
        var out = "\(s.items) items (\(s.retrieval.goldItems) with a gold row in the bank, \(s.memoryOn.choiceItems) multiple choice); "
            + "memory layers \(report.memoryLayers.map(String.init).joined(separator: ",")); C = \(candidates)\n\n"
        var rows = [["", "items", "startswith", "exact", "contains", "mc", "recall@C", "selection", "prompt tokens added"]]
        func row(_ name: String, _ m: ModeSummary?, retrieval: Bool, added: Double? = 0) {
            guard let m else { return }
            rows.append([name, "\(m.items)", f(m.accuracy), f(m.exactAccuracy), f(m.containsAccuracy), f(m.choiceAccuracy),
                         retrieval ? f(s.retrieval.recall) : "", retrieval ? f(s.retrieval.selection) : "", added.map { String(format: "%.1f", $0) } ?? "-"])
        }
        row("memory off", s.memoryOff, retrieval: false)
        row("memory on", s.memoryOn, retrieval: true)
        row("oracle", s.oracle, retrieval: false)
        row("RAG (top row in the prompt)", s.rag, retrieval: false, added: s.ragPromptTokensPerItem)
        out += table(rows)
        // Per layer only where the layers read differently (the dense retriever: a gate per layer).
        let r = s.retrieval
        if r.goldItems > 0 && (Set(r.recalled).count > 1 || Set(r.selected).count > 1) {
            out += "\nper memory layer:\n"
            out += table([["layer", "recall@C", "selection"]] + report.memoryLayers.indices.map {
                ["\(report.memoryLayers[$0])", f(s.retrieval.recall(at: $0)), f(s.retrieval.selection(at: $0))]
            })
        }
        if !report.byPredicate.isEmpty {
            out += "\nper predicate (startswith accuracy):\n"
            var lines = [["predicate", "items", "memory off", "memory on", "oracle", "RAG", "mc off", "mc on", "recall@C", "selection"]]
            for name in report.byPredicate.keys.sorted() {
                let p = report.byPredicate[name]!
                lines.append([name, "\(p.items)", f(p.memoryOff?.accuracy), f(p.memoryOn.accuracy), f(p.oracle?.accuracy), f(p.rag?.accuracy),
                              f(p.memoryOff?.choiceAccuracy), f(p.memoryOn.choiceAccuracy), f(p.retrieval.recall), f(p.retrieval.selection)])
            }
            out += table(lines)
        }
        return out
    }

    /// Three decimals; "-" where there is nothing to count.
    static func f(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "-" }

    /// Left-aligned first column, right-aligned numbers, two spaces between columns.
    static func table(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { cells in
            cells.enumerated().map { c, text in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return c == 0 ? text + pad : pad + text
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
