import Foundation
import JSON
import Tokenizers

/// Evaluation items from a file: the seed's conversations (`{"conversations": [...], "fact_uuid"?}`,
/// one per line) and OMCQ items (method §7: `{"question", "options", "correct_answer", "uuid"}`),
/// alone, in a JSON array, under "target", or one per line. Each bad entry is named by file:line
/// (JSON Lines) or file: [index] (a JSON document) with the reason.
public struct EvaluationData: Sendable {
    public let items: [EvaluationItem]
    /// "place: reason" for each bad entry that was skipped (only with `skipInvalid`).
    public let problems: [String]

    /// Reads `url`; `system` is put first in every prompt that has no system message. Unless
    /// `skipInvalid`, any bad entry makes this throw, listing them.
    public static func load(url: URL, system: String? = nil, skipInvalid: Bool = false) throws -> EvaluationData {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw EvaluationError("\(url.path): cannot read the file") }
        let bytes = [UInt8](data)
        var items: [EvaluationItem] = [], problems: [String] = []
        func add(_ value: JSONValue, at place: String) {
            do { items += try Self.items(value, place: place, system: system) } catch { problems.append("\(error)") }
        }
        // A whole JSON document (an item, an array, a "target" list); otherwise JSON Lines.
        if let root = try? JSONValue.parse(bytes) {
            if let entries = root.arrayValue {
                for (i, entry) in entries.enumerated() { add(entry, at: "\(url.path): [\(i)]") }
            } else {
                add(root, at: url.path)
            }
        } else {
            for (line, text) in Self.lines(bytes) {
                do { add(try JSONValue.parse(text), at: "\(url.path):\(line)") } catch let e as JSONParseError {
                    problems.append("\(url.path):\(line): not valid JSON at column \(e.column): \(e.reason)")
                }
            }
        }
        if !problems.isEmpty && !skipInvalid {
            let more = problems.count > 20 ? "\n… and \(problems.count - 20) more" : ""
            throw EvaluationError("\(problems.count) bad item(s):\n" + problems.prefix(20).joined(separator: "\n") + more)
        }
        guard !items.isEmpty else { throw EvaluationError("\(url.path): no evaluation items") }
        return EvaluationData(items: items, problems: problems)
    }

    /// The non-blank lines with their 1-based numbers (CR before LF dropped).
    static func lines(_ bytes: [UInt8]) -> [(Int, [UInt8])] {
        var out: [(Int, [UInt8])] = [], number = 0, start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            number += 1
            var line = bytes[start..<end]
            start = end + 1
            if line.last == 0x0D { line = line.dropLast() }
            if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { out.append((number, Array(line))) }
        }
        return out
    }

    /// The items of one entry: a conversation, an OMCQ item, or {"target": [OMCQ items]}.
    static func items(_ value: JSONValue, place: String, system: String?) throws -> [EvaluationItem] {
        guard value.objectValue != nil else {
            throw EvaluationError("\(place): expected an object (a conversation or an OMCQ item), found \(value.typeName)")
        }
        if let list = value["conversations"] {
            guard let turns = list.arrayValue else { throw EvaluationError("\(place): \"conversations\" is \(list.typeName), expected an array") }
            let messages: [ChatMessage]
            do { messages = try turns.enumerated().map { try ChatMessage(json: $1, context: "conversations[\($0)]") } } catch {
                throw EvaluationError("\(place): \(error)")
            }
            return [try EvaluationItem(conversation: messages, factUUID: try string(value, "fact_uuid", place, required: false),
                                       system: system, source: place)]
        }
        if let target = value["target"] {
            guard let entries = target.arrayValue else { throw EvaluationError("\(place): \"target\" is \(target.typeName), expected an array") }
            return try entries.enumerated().map { try choiceItem($1, place: "\(place) target[\($0)]", system: system) }
        }
        guard value["question"] != nil else {
            throw EvaluationError("\(place): neither a conversation (\"conversations\") nor an OMCQ item (\"question\", \"options\", \"correct_answer\")")
        }
        return [try choiceItem(value, place: place, system: system)]
    }

    static func choiceItem(_ value: JSONValue, place: String, system: String?) throws -> EvaluationItem {
        guard value.objectValue != nil else { throw EvaluationError("\(place): expected an OMCQ item object, found \(value.typeName)") }
        return try EvaluationItem(question: try string(value, "question", place)!, options: try string(value, "options", place)!,
                                  correctAnswer: try string(value, "correct_answer", place)!, uuid: try string(value, "uuid", place, required: false),
                                  system: system, source: place)
    }

    /// The string under `key`; a missing or null optional key is nil, anything but a string an error.
    static func string(_ value: JSONValue, _ key: String, _ place: String, required: Bool = true) throws -> String? {
        guard let v = value[key], !v.isNull else {
            if required { throw EvaluationError("\(place): missing key \"\(key)\"") }
            return nil
        }
        guard let s = v.stringValue else { throw EvaluationError("\(place): \"\(key)\" is \(v.typeName), expected a string") }
        return s
    }
}
