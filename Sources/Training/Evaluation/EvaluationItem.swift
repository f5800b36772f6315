import Foundation
import JSON
import Tokenizers

/// One evaluation question (method.md §9): the conversation up to the answer, the retrieval query,
/// the gold answer and, for a multiple-choice item, its options.
public struct EvaluationItem: Sendable, Equatable {
    /// The turns before the answer (a system message first when there is one); the last is the user's.
    public var messages: [ChatMessage]
    /// The retrieval query text: the content of the last user turn (method §4).
    public var question: String
    /// The gold answer: the last assistant turn, or an OMCQ item's `correct_answer`.
    public var answer: String
    /// The gold fact (`fact_uuid`, or an OMCQ item's `uuid`); its bank row is the gold row.
    public var factUUID: String?
    /// Multiple choice: each option as the assistant would answer it ("C:Lima"); empty for open questions.
    public var options: [String]
    /// The index in `options` of the gold option.
    public var correctOption: Int?
    /// Where the item came from ("file:line" or "file: [i]"), for reports and errors.
    public var source: String

    public init(messages: [ChatMessage], question: String, answer: String, factUUID: String? = nil, options: [String] = [],
                correctOption: Int? = nil, source: String = "") {
        self.messages = messages
        self.question = question
        self.answer = answer
        self.factUUID = factUUID
        self.options = options
        self.correctOption = correctOption
        self.source = source
    }

    /// A seed conversation: the prompt is every turn before the last assistant turn, which is the
    /// gold answer; the question is the last user turn before it. `system` goes first unless the
    /// conversation has a system message of its own.
    public init(conversation messages: [ChatMessage], factUUID: String?, system: String? = nil, source: String) throws {
        guard let last = messages.lastIndex(where: { $0.role == .assistant }) else {
            throw EvaluationError("\(source): no assistant turn (its content is the gold answer)")
        }
        var prompt = Array(messages[..<last])
        guard let user = prompt.last(where: { $0.role == .user }) else {
            throw EvaluationError("\(source): no user turn before the last assistant turn (its content is the question)")
        }
        let answer = messages[last].content
        guard !answer.allSatisfy(\.isWhitespace) else { throw EvaluationError("\(source): the gold answer (the last assistant turn) is empty") }
        if let system, prompt.first?.role != .system { prompt.insert(ChatMessage(role: .system, content: system), at: 0) }
        self.init(messages: prompt, question: user.content, answer: answer, factUUID: factUUID, source: source)
    }

    /// An OMCQ item (method §7), as its conversion to SFT renders it: the user turn is the question,
    /// a newline and the options; the gold answer is `correct_answer` ("C:Lima").
    public init(question: String, options: String, correctAnswer: String, uuid: String?, system: String? = nil, source: String) throws {
        let parsed = try Self.splitOptions(options, source: source)
        let letter = Self.letter(of: correctAnswer)
        guard let letter, let correct = parsed.firstIndex(where: { Self.letter(of: $0) == letter }) else {
            throw EvaluationError("\(source): \"correct_answer\" \(JSONValue.quoted(correctAnswer)) names no option of \(JSONValue.quoted(options))")
        }
        let user = question + "\n" + options
        var messages = system.map { [ChatMessage(role: .system, content: $0)] } ?? []
        messages.append(ChatMessage(role: .user, content: user))
        self.init(messages: messages, question: user, answer: correctAnswer, factUUID: uuid, options: parsed, correctOption: correct, source: source)
    }

    /// "A:Lima,B:Quito, Ecuador,C:…" → ["A:Lima", "B:Quito, Ecuador", "C:…"]: a comma starts a new
    /// option only before a letter and a colon, so commas inside an option stay in it.
    static func splitOptions(_ text: String, source: String) throws -> [String] {
        var options: [String] = [], current = ""
        let characters = Array(text)
        for (i, c) in characters.enumerated() {
            if c == "," {
                var j = i + 1
                while j < characters.count, characters[j] == " " { j += 1 }
                if j + 1 < characters.count, characters[j].isLetter, characters[j].isUppercase, characters[j + 1] == ":" {
                    options.append(current)
                    current = ""
                    continue
                }
            }
            current.append(c)
        }
        options.append(current)
        options = options.map { $0.trimmingCharacters(in: .whitespaces) }
        let letters = options.map(letter(of:))
        guard options.count >= 2, letters.allSatisfy({ $0 != nil }) else {
            throw EvaluationError("\(source): \"options\" \(JSONValue.quoted(text)) is not a list \"A:…,B:…\" of at least two lettered options")
        }
        guard Set(letters.map { $0! }).count == letters.count else {
            throw EvaluationError("\(source): \"options\" \(JSONValue.quoted(text)) repeats a letter")
        }
        return options
    }

    /// "C" of "C:Lima" (a single upper-case letter before the colon), nil otherwise.
    static func letter(of option: String) -> Character? {
        let t = option.trimmingCharacters(in: .whitespaces)
        guard t.count >= 2, let first = t.first, first.isLetter, first.isUppercase, t.dropFirst().first == ":" else { return nil }
        return first
    }
}

public struct EvaluationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
