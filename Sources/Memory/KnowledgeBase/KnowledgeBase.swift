import Foundation
import JSON

/// One fact of a knowledge base: the sentence that becomes a bank row's text, and its metadata.
public struct Fact: Sendable, Equatable {
    public var sentence: String
    public var uuid: String?
    public var subject: String?
    public var predicate: String?
    public var object: String?

    public init(sentence: String, uuid: String? = nil, subject: String? = nil, predicate: String? = nil, object: String? = nil) {
        self.sentence = sentence; self.uuid = uuid; self.subject = subject; self.predicate = predicate; self.object = object
    }
}

/// A knowledge base (method.md §7), in knowledge-base order, which is bank-row order.
///
/// Accepted forms:
/// - T-REx style JSON: an array of `{"target": [{"sentence", "uuid", "subject", "predicate", "object"}, ...]}`
///   (every target sentence is one fact); an array item may also be one such fact itself.
/// - JSON Lines (a `.jsonl` file): one fact per line, or one `{"target": [...]}` item per line.
/// `sentence` is required and non-empty; the other fields are optional strings (or null). Every
/// error names the file and the line (JSON Lines) or the position (JSON), and the field.
public struct KnowledgeBase: Sendable {
    public let facts: [Fact]

    public init(facts: [Fact]) { self.facts = facts }

    public static func load(_ url: URL) throws -> KnowledgeBase {
        if url.pathExtension.lowercased() == "jsonl" {
            var facts: [Fact] = []
            for (line, object) in try readJSONLines(url) {
                try appendItem(object, at: "\(url.path):\(line)", to: &facts)
            }
            return try checked(facts, url)
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw KnowledgeBaseError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        let root: JSONValue
        do { root = try JSONValue.parse([UInt8](data)) } catch let e as JSONParseError {
            throw KnowledgeBaseError("\(url.path): not valid JSON at \(e)")
        }
        var facts: [Fact] = []
        switch root {
        case .array(let items):
            for (i, item) in items.enumerated() { try appendItem(item, at: "\(url.path): [\(i)]", to: &facts) }
        case .object:
            try appendItem(root, at: "\(url.path):", to: &facts)
        default:
            throw KnowledgeBaseError("\(url.path): expected a JSON array of knowledge-base items, found \(root.typeName)")
        }
        return try checked(facts, url)
    }

    /// A `{"target": [...]}` item or a fact object; `place` names it in errors.
    static func appendItem(_ item: JSONValue, at place: String, to facts: inout [Fact]) throws {
        guard item.objectValue != nil else { throw KnowledgeBaseError("\(place): expected an object, found \(item.typeName)") }
        guard let target = item["target"] else {
            facts.append(try fact(item, at: place))
            return
        }
        guard let entries = target.arrayValue else {
            throw KnowledgeBaseError("\(place): \"target\" is \(target.typeName), expected an array of facts")
        }
        for (j, entry) in entries.enumerated() { facts.append(try fact(entry, at: "\(place) target[\(j)]")) }
    }

    static func fact(_ value: JSONValue, at place: String) throws -> Fact {
        guard value.objectValue != nil else { throw KnowledgeBaseError("\(place): expected a fact object, found \(value.typeName)") }
        func text(_ key: String) throws -> String? {
            guard let v = value[key], !v.isNull else { return nil }
            guard let s = v.stringValue else { throw KnowledgeBaseError("\(place): \"\(key)\" is \(v.typeName), expected a string") }
            return s
        }
        guard let sentence = try text("sentence"), !sentence.allSatisfy(\.isWhitespace) else {
            throw KnowledgeBaseError("\(place): \"sentence\" is missing or empty")
        }
        return Fact(sentence: sentence, uuid: try text("uuid"), subject: try text("subject"),
                    predicate: try text("predicate"), object: try text("object"))
    }

    /// A knowledge base needs a fact, and a uuid names one fact only (labels refer to facts by it).
    static func checked(_ facts: [Fact], _ url: URL) throws -> KnowledgeBase {
        guard !facts.isEmpty else { throw KnowledgeBaseError("\(url.path): no facts") }
        var seen: [String: Int] = [:]
        for (i, f) in facts.enumerated() {
            guard let uuid = f.uuid else { continue }
            if let first = seen[uuid] { throw KnowledgeBaseError("\(url.path): fact \(i + 1) repeats the uuid \"\(uuid)\" of fact \(first + 1)") }
            seen[uuid] = i
        }
        return KnowledgeBase(facts: facts)
    }
}

public struct KnowledgeBaseError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
