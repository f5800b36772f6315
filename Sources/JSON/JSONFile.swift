import Foundation

/// Decodes a JSON configuration file (config.json, generation_config.json, sentence-transformers
/// files) into a `Decodable` type through the package's JSON reader. Every error names the file; a
/// syntax error its line and column; a wrong or missing value its key and the value ("key 'a.b[2]':
/// 1.5 is not an integer"); an error the type's own decoder throws (a refused setting) keeps its text.
public func decodeJSONFile<T: Decodable>(_ type: T.Type, at url: URL) throws -> T {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
        throw JSONFileError("\(url.path): cannot read: \(error.localizedDescription)")
    }
    let value: JSONValue
    do { value = try JSONValue.parse([UInt8](data), options: .huggingFace) } catch let e as JSONParseError {
        throw JSONFileError("\(url.path): not valid JSON at \(e)")
    }
    do {
        return try JSONValueDecoder().decode(T.self, from: value)
    } catch let error as DecodingError {
        throw JSONFileError("\(url.path): \(describe(error))")
    } catch {
        throw JSONFileError("\(url.path): \(error)")
    }
}

/// A configuration file that cannot be read or decoded; the message names the file.
public struct JSONFileError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

private func describe(_ error: DecodingError) -> String {
    switch error {
    case let .keyNotFound(key, context):
        return "key '\(keyPath(context.codingPath + [key]))' is missing"
    case let .typeMismatch(_, context), let .valueNotFound(_, context):
        return context.codingPath.isEmpty ? context.debugDescription
            : "key '\(keyPath(context.codingPath))': \(context.debugDescription)"
    case let .dataCorrupted(context):
        if context.codingPath.isEmpty {
            return "invalid JSON: \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)"
        }
        return "key '\(keyPath(context.codingPath))': \(context.debugDescription)"
    @unknown default:
        return "\(error)"
    }
}

/// "a.b[2].c" from a coding path (array positions have an intValue).
private func keyPath(_ path: [CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
    }
    return text
}

extension KeyedDecodingContainer {
    /// The value under `key`, or `fallback` when the key is absent: configuration files omit keys
    /// whose value is the reference default.
    public func decode<T: Decodable>(_ key: Key, default fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}
