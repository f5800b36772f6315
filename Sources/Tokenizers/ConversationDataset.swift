import Foundation
import JSON

/// One training conversation from a JSONL file.
public struct Conversation: Sendable, Equatable {
    public let messages: [ChatMessage]
    /// The gold fact's uuid (method.md §7), when the line names one.
    public let factUUID: String?
    /// 1-based line in the file.
    public let line: Int
}

/// The seed's conversation format, one JSON object per line:
/// `{"conversations": [{"role": "user", "content": ...}, {"role": "assistant", "content": ...}], "fact_uuid"?: ...}`
/// with roles system, user and assistant. Blank lines are ignored.
public struct ConversationDataset: Sendable {
    /// The file the conversations came from.
    public let url: URL
    public let conversations: [Conversation]
    /// "file:line: reason" for each bad line that was skipped (only with `skipBadLines`).
    public let problems: [String]

    /// Reads `url`. Each bad line (invalid JSON or UTF-8, missing field, unknown role, no assistant turn)
    /// is reported as "file:line: reason"; unless `skipBadLines`, any bad line makes this throw, listing them.
    public static func load(url: URL, skipBadLines: Bool = false) throws -> ConversationDataset {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TokenizerError("\(url.path): cannot read the file")
        }
        var conversations: [Conversation] = []
        var problems: [String] = []
        let bytes = [UInt8](data)
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            var lineBytes = bytes[start..<end]
            start = end + 1
            if lineBytes.last == 0x0D { lineBytes = lineBytes.dropLast() }
            if lineBytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do {
                conversations.append(try parseLine(Array(lineBytes), line: lineNumber))
            } catch {
                problems.append("\(url.path):\(lineNumber): \(error)")
            }
        }
        if !problems.isEmpty && !skipBadLines {
            let shown = problems.prefix(20).joined(separator: "\n")
            let more = problems.count > 20 ? "\n… and \(problems.count - 20) more" : ""
            throw TokenizerError("\(problems.count) bad line(s):\n\(shown)\(more)")
        }
        return ConversationDataset(url: url, conversations: conversations, problems: problems)
    }

    /// Every conversation rendered, tokenized and masked (see `BPETokenizer.trainingSequence`). A
    /// conversation left with no trainable token (e.g. by `maxLength`) is an error naming its file:line.
    public func trainingSequences(tokenizer: BPETokenizer, template: ChatTemplate = .qwen3,
                                  maxLength: Int? = nil) throws -> [TrainingSequence] {
        try conversations.map { c in
            do { return try tokenizer.trainingSequence(c.messages, template: template, maxLength: maxLength) } catch {
                throw TokenizerError("\(url.path):\(c.line): \(error)")
            }
        }
    }

    static func parseLine(_ bytes: [UInt8], line: Int) throws -> Conversation {
        guard UTF8Validation.string(bytes) != nil else { throw TokenizerError("invalid UTF-8") }
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch let e as JSONParseError {
            throw TokenizerError("invalid JSON at column \(e.column): \(e.reason)")
        }
        guard json.objectValue != nil else { throw TokenizerError("expected a JSON object") }
        guard let list = json["conversations"] else { throw TokenizerError("missing field \"conversations\"") }
        guard let items = list.arrayValue else { throw TokenizerError("\"conversations\" must be an array") }
        var messages: [ChatMessage] = []
        for (i, item) in items.enumerated() {
            let m = try ChatMessage(json: item, context: "conversations[\(i)]")
            guard m.role != .tool else { throw TokenizerError("conversations[\(i)]: unknown role \"tool\" (expected system, user or assistant)") }
            messages.append(m)
        }
        guard messages.contains(where: { $0.role == .assistant }) else { throw TokenizerError("no assistant turn") }
        var fact: String? = nil
        if let f = json["fact_uuid"], !f.isNull {
            guard let s = f.stringValue else { throw TokenizerError("\"fact_uuid\" must be a string") }
            fact = s
        }
        return Conversation(messages: messages, factUUID: fact, line: line)
    }
}
