import Foundation

/// The three ways a greedy answer is judged against the gold answer (all reported, since each
/// alone misleads: `startswith` forgives a rambling tail, `exact` punishes it, `contains` forgives
/// an answer that lists several candidates).
public struct AnswerJudgement: Sendable, Equatable {
    /// The generated answer, trimmed, starts with the gold answer (trimmed).
    public var startswith: Bool
    /// Both are equal after trimming whitespace and one final period.
    public var exact: Bool
    /// The gold answer (trimmed) occurs anywhere in the generated text.
    public var contains: Bool

    public init(startswith: Bool, exact: Bool, contains: Bool) {
        self.startswith = startswith
        self.exact = exact
        self.contains = contains
    }

    /// Case and inner spacing count: a fact's answer is a name, and "lima" is not how the bank writes it.
    public init(generated: String, gold: String) {
        let answer = generated.trimmingCharacters(in: .whitespacesAndNewlines)
        let target = gold.trimmingCharacters(in: .whitespacesAndNewlines)
        startswith = !target.isEmpty && answer.hasPrefix(target)
        exact = Self.withoutFinalPeriod(answer) == Self.withoutFinalPeriod(target)
        contains = !target.isEmpty && generated.contains(target)
    }

    /// Trimmed, then one final "." dropped and trimmed again ("Lima ." and "Lima" are equal).
    static func withoutFinalPeriod(_ text: String) -> String {
        var t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.hasSuffix(".") { t = String(t.dropLast()).trimmingCharacters(in: .whitespacesAndNewlines) }
        return t
    }
}
