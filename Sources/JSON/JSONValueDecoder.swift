/// Decodes `Decodable` types from a parsed `JSONValue`, so configuration files go through the
/// package's one JSON reader. Errors are `DecodingError`s whose coding path names the key and whose
/// text quotes the value and says what was expected ("1.5 is not an integer"): Foundation's decoder
/// reports a number that does not fit as "The given data was not valid JSON", naming nothing.
public struct JSONValueDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: []))
    }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let pairs) = value else { throw mismatch(value, "an object", codingPath) }
        var members: [String: JSONValue] = [:]
        for (key, member) in pairs where members[key] == nil { members[key] = member }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch(value, "an array", codingPath) }
        return UnkeyedContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { SingleValue(value: value, codingPath: codingPath) }
}

/// "key 'x': found "abc", expected an integer" as Foundation's describe() shows it.
private func mismatch(_ value: JSONValue, _ expected: String, _ path: [CodingKey]) -> DecodingError {
    .typeMismatch(Any.self, .init(codingPath: path, debugDescription: "\(value.excerpt()) is not \(expected)"))
}

/// Converts one value to the primitive types the standard library's Decodable conformances ask for.
private func primitive<T>(_ value: JSONValue, _ type: T.Type, _ path: [CodingKey]) throws -> T {
    switch (value, type) {
    case (.bool(let b), is Bool.Type): return b as! T
    case (.string(let s), is String.Type): return s as! T
    case (.number(let text), is Double.Type), (.number(let text), is Float.Type):
        guard let x = Double(text), x.isFinite else { throw mismatch(value, "a finite number", path) }
        return (type == Float.self ? Float(x) as Any : x as Any) as! T
    case (.number(let text), _) where integerTypes.contains(where: { $0 == type }):
        guard let n = Int(text) else { throw mismatch(value, "an integer", path) }
        guard let converted = convert(n, to: type) else { throw mismatch(value, "an integer that fits \(type)", path) }
        return converted
    default:
        let expected = type == Bool.self ? "a boolean" : type == String.self ? "a string"
            : integerTypes.contains(where: { $0 == type }) ? "an integer" : "a number"
        throw mismatch(value, expected, path)
    }
}

private let integerTypes: [Any.Type] = [Int.self, Int8.self, Int16.self, Int32.self, Int64.self,
                                        UInt.self, UInt8.self, UInt16.self, UInt32.self, UInt64.self]

private func convert<T>(_ n: Int, to type: T.Type) -> T? {
    switch type {
    case is Int.Type: return n as? T
    case is Int8.Type: return Int8(exactly: n) as? T
    case is Int16.Type: return Int16(exactly: n) as? T
    case is Int32.Type: return Int32(exactly: n) as? T
    case is Int64.Type: return Int64(exactly: n) as? T
    case is UInt.Type: return UInt(exactly: n) as? T
    case is UInt8.Type: return UInt8(exactly: n) as? T
    case is UInt16.Type: return UInt16(exactly: n) as? T
    case is UInt32.Type: return UInt32(exactly: n) as? T
    case is UInt64.Type: return UInt64(exactly: n) as? T
    default: return nil
    }
}

private func isPrimitive(_ type: Any.Type) -> Bool {
    type == Bool.self || type == String.self || type == Double.self || type == Float.self || integerTypes.contains { $0 == type }
}

private func decodeValue<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ path: [CodingKey]) throws -> T {
    if isPrimitive(type) { return try primitive(value, type, path) }
    return try T(from: ValueDecoder(value: value, codingPath: path))
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONValue {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).isNull }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(type, try member(key), codingPath + [key])
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = members[key.stringValue], !value.isNull else { return nil }
        return try decodeValue(type, value, codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: try member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try ValueDecoder(value: try member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { ValueDecoder(value: .object(members.map { ($0.key, $0.value) }), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> Decoder { ValueDecoder(value: try member(key), codingPath: codingPath + [key]) }
}

/// An array position in a coding path.
private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [JSONValue], codingPath: [CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    private mutating func next() throws -> (JSONValue, [CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath + [IndexKey(currentIndex)], debugDescription: "the array ends here"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next()
        return try decodeValue(type, value, path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try next()
        return try ValueDecoder(value: value, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let (value, path) = try next()
        return try ValueDecoder(value: value, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder {
        let (value, path) = try next()
        return ValueDecoder(value: value, codingPath: path)
    }
}

private struct SingleValue: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [CodingKey]
    func decodeNil() -> Bool { value.isNull }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, value, codingPath) }
}
