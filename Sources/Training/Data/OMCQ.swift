import Foundation
import JSON

/// One multiple-choice question of an OMCQ file (method.md §7):
/// `{"question", "options": "A:...,B:...,C:...", "correct_answer": "C:...", "uuid"}`.
public struct OMCQItem: Sendable, Equatable {
    public let question: String
    /// The choices as one string, each "X:text", the labels A, B, C, … in order, separated by commas.
    public let options: String
    /// The right choice, starting with its label ("C:..."); the assistant's reply in SFT.
    public let correctAnswer: String
    /// The fact the question asks about; becomes the conversation's "fact_uuid".
    public let uuid: String

    public init(question: String, options: String, correctAnswer: String, uuid: String) {
        self.question = question; self.options = options; self.correctAnswer = correctAnswer; self.uuid = uuid
    }

    /// The item as the seed's SFT conversation, one JSON line without its newline:
    /// `{"conversations": [{"role": "user", "content": question + "\n" + options},
    /// {"role": "assistant", "content": correct_answer}], "fact_uuid": uuid}`.
    public var sftLine: String {
        func message(_ role: String, _ content: String) -> JSONValue {
            .object([("role", .string(role)), ("content", .string(content))])
        }
        return JSONValue.object([
            ("conversations", .array([message("user", question + "\n" + options), message("assistant", correctAnswer)])),
            ("fact_uuid", .string(uuid)),
        ]).pythonJSON()
    }

    /// Reads one item object; the error says which field is wrong and why (the caller adds the place).
    public init(json: JSONValue) throws {
        guard json.objectValue != nil else { throw OMCQError("expected an OMCQ object, found \(json.typeName)") }
        func text(_ key: String) throws -> String {
            guard let value = json[key] else { throw OMCQError("\"\(key)\" is missing") }
            guard let s = value.stringValue else {
                throw OMCQError("\"\(key)\" is \(value.typeName) (\(value.excerpt())), expected a string")
            }
            guard !s.allSatisfy(\.isWhitespace) else { throw OMCQError("\"\(key)\" is empty") }
            return s
        }
        let question = try text("question"), options = try text("options")
        let correctAnswer = try text("correct_answer"), uuid = try text("uuid")
        let labels = OMCQItem.labels(of: options)
        guard !labels.isEmpty else {
            throw OMCQError("\"options\" \(JSONValue.quoted(Self.cut(options))) does not start with the label \"A:\"")
        }
        guard let answer = OMCQItem.label(of: correctAnswer) else {
            throw OMCQError("\"correct_answer\" \(JSONValue.quoted(Self.cut(correctAnswer))) does not start with an option label (\"A:\"…)")
        }
        guard labels.contains(answer) else {
            throw OMCQError("\"correct_answer\" \(JSONValue.quoted(Self.cut(correctAnswer))) names option \(answer), "
                            + "but \"options\" has \(labels.first!)–\(labels.last!)")
        }
        self.init(question: question, options: options, correctAnswer: correctAnswer, uuid: uuid)
    }

    /// The labels of "A:...,B:...": a capital letter and a colon at the start or after a comma
    /// (spaces allowed before it). Only the next letter of A, B, C, … counts, so option text that
    /// happens to hold ",J:" or "1,000" is not taken for a choice.
    static func labels(of options: String) -> [Character] {
        let chars = Array(options)
        var labels: [Character] = []
        var atChoiceStart = true
        for (i, ch) in chars.enumerated() {
            if ch == "," {
                atChoiceStart = true
            } else if atChoiceStart && !ch.isWhitespace {
                let next = Character(Unicode.Scalar(UInt8(ascii: "A") + UInt8(labels.count)))
                if labels.count < 26, ch == next, i + 1 < chars.count, chars[i + 1] == ":" { labels.append(ch) }
                atChoiceStart = false
            }
        }
        return labels
    }

    /// The label an answer starts with: a capital letter followed by ":" or nothing ("C:Lyon", "C").
    static func label(of answer: String) -> Character? {
        let chars = Array(answer.drop(while: \.isWhitespace))
        guard let first = chars.first, first.isASCII, first.isUppercase else { return nil }
        return chars.count == 1 || chars[1] == ":" ? first : nil
    }

    private static func cut(_ s: String) -> String { s.count <= 40 ? s : String(s.prefix(40)) + "…" }
}

/// A problem with an OMCQ file or item; the message names the place (file:line, or file and index).
public struct OMCQError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
