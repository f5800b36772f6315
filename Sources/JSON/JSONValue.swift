/// A parsed JSON value, the one reader of the package (safetensors headers and index files,
/// tokenizer.json, tokenizer_config.json, chat messages, conversation data).
///
/// Objects keep their keys in file order (the chat template's `tojson` and tokenizer.json's vocabulary
/// depend on it). Numbers keep their literal text, so that the caller judges them (a safetensors shape
/// of `1.0` is an error, not 1) and they can be written back unchanged.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value under `key` when this is an object. Parsing leaves at most one member per key
    /// (see `JSONParseOptions.DuplicateKeys`); on a hand-built object with repeats this is the first.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(pairs) = self else { return nil }
        return pairs.first(where: { $0.0 == key })?.1
    }

    public var stringValue: String? { if case let .string(s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case let .bool(b) = self { return b } else { return nil } }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a } else { return nil } }
    public var objectValue: [(String, JSONValue)]? { if case let .object(o) = self { return o } else { return nil } }
    /// The number as an Int when its literal is an integer that fits (not `1.0`, not `1e3`).
    public var intValue: Int? { if case let .number(n) = self { return Int(n) } else { return nil } }
    /// The number as a Double (its literal parsed; nil for anything but a number).
    public var doubleValue: Double? { if case let .number(n) = self { return Double(n) } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The number as a non-negative Int when its literal is plain digits (no sign, fraction or exponent).
    public var nonNegativeInt: Int? {
        guard case .number(let text) = self, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(text)
    }

    /// "a string", "an object", … for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Parses one whole UTF-8 document; anything but whitespace after the value is an error.
    /// Throws `JSONParseError`. The entry points are untyped `throws` on purpose: with typed throws,
    /// callers' `catch let e as JSONParseError` draws warnings and, in Swift 6.3.1, crashed the compiler.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, options: JSONParseOptions = .init()) throws -> JSONValue {
        var parser = JSONParser(bytes, options: options)
        parser.skipSpace()
        let value = try parser.parseValue(depth: 0)
        parser.skipSpace()
        if parser.pos != bytes.count { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer, options: JSONParseOptions = .init()) throws -> JSONValue {
        try parse(bytes.assumingMemoryBound(to: UInt8.self), options: options)
    }

    public static func parse(_ bytes: [UInt8], options: JSONParseOptions = .init()) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { try parse($0, options: options) }
    }

    public static func parse(_ text: String, options: JSONParseOptions = .init()) throws -> JSONValue {
        try parse(Array(text.utf8), options: options)
    }
}
