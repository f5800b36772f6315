import JSON

/// One object of tokenizer.json and its key path, for reading optional members by type: absent or
/// null gives nil, a value of another type an error naming the key (serde refuses it in the reference).
struct JSONMembers {
    let value: JSONValue
    /// Where the object sits, e.g. "model" or "added_tokens[3]"; empty for the top level.
    let path: String

    init(_ value: JSONValue, path: String) {
        self.value = value
        self.path = path
    }

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    /// The member `name`; nil when it is absent or null.
    subscript(name: String) -> JSONValue? {
        guard let member = value[name], !member.isNull else { return nil }
        return member
    }

    func read<T>(_ name: String, as expected: String, _ convert: (JSONValue) -> T?) throws -> T? {
        guard let member = self[name] else { return nil }
        guard let result = convert(member) else {
            throw WordPieceError("\(key(name)) is not \(expected) (found \(member.typeName))")
        }
        return result
    }

    func string(_ name: String) throws -> String? { try read(name, as: "a string") { $0.stringValue } }
    func bool(_ name: String) throws -> Bool? { try read(name, as: "a boolean") { $0.boolValue } }
    func array(_ name: String) throws -> [JSONValue]? { try read(name, as: "an array") { $0.arrayValue } }
    /// A count or length: plain digits only.
    func count(_ name: String) throws -> Int? { try read(name, as: "a non-negative integer") { $0.nonNegativeInt } }

    func id(_ name: String) throws -> Int32? {
        try read(name, as: "a non-negative integer id") { v in v.nonNegativeInt.flatMap { $0 <= Int(Int32.max) ? Int32($0) : nil } }
    }

    func object(_ name: String) throws -> JSONMembers? {
        try read(name, as: "an object") { v in v.objectValue == nil ? nil : JSONMembers(v, path: key(name)) }
    }
}
