import Foundation

/// How the values of one Swift type are read from settings, coerced as the seed's Python tooling
/// coerces them, and written back as text for the saved configuration and `--help`.
public struct SettingType<Value>: Sendable {
    /// What is allowed, for `--help` and errors: "integer in 1...65536", "true|false", …
    public let name: String
    let read: @Sendable (SettingValue) throws -> Value
    let write: @Sendable (Value) -> String

    /// A type of single values: a list is refused with what is expected instead.
    init(_ name: String, read: @escaping @Sendable (String) throws -> Value, write: @escaping @Sendable (Value) -> String) {
        self.init(name, readValue: { value in
            guard case .text(let text) = value else { throw SettingProblem("is a list; expected \(name)") }
            return try read(text)
        }, write: write)
    }

    init(_ name: String, readValue: @escaping @Sendable (SettingValue) throws -> Value, write: @escaping @Sendable (Value) -> String) {
        self.name = name
        self.read = readValue
        self.write = write
    }
}

extension SettingType where Value == Int {
    /// Counts and sizes have a stated range, so that nothing computed from them (steps of the
    /// schedule, batch buffers) can overflow or allocate what no machine has.
    public static func integer(in range: ClosedRange<Int>) -> Self {
        Self("integer in \(range.lowerBound)...\(range.upperBound)", read: { text in
            let n = try readInteger(text)
            guard n >= range.lowerBound else { throw SettingProblem("is below the minimum \(range.lowerBound)") }
            guard n <= range.upperBound else { throw SettingProblem("is above the maximum \(range.upperBound)") }
            return n
        }, write: { "\($0)" })
    }

    /// Any integer: for settings whose limits a validation of the whole states (`MemoryConfig.validate()`).
    public static let integer = Self("integer", read: readInteger, write: { "\($0)" })

    /// A rank of method §0 (model.gate_rank, model.fusion_rank): `None` means 0, full rank.
    public static let rank = Self("integer, 0 or None = full rank", read: { text in
        SettingValue.isUnset(text) ? 0 : try readInteger(text)
    }, write: { "\($0)" })

    private static func readInteger(_ text: String) throws -> Int {
        guard let n = Int(text) else { throw SettingProblem("is not an integer") }
        return n
    }
}

extension SettingType where Value == UInt64 {
    public static let unsignedInteger = Self("integer in 0...\(UInt64.max)", read: { text in
        guard let n = UInt64(text) else { throw SettingProblem("is not a non-negative integer") }
        return n
    }, write: { "\($0)" })
}

/// Where a real-valued setting must lie.
public enum NumberBound: Sendable {
    case any, positive, nonNegative, unitInterval

    var name: String {
        switch self {
        case .any: return "number"
        case .positive: return "number > 0"
        case .nonNegative: return "number >= 0"
        case .unitInterval: return "number in 0...1"
        }
    }

    func contains(_ x: Double) -> Bool {
        switch self {
        case .any: return true
        case .positive: return x > 0
        case .nonNegative: return x >= 0
        case .unitInterval: return x >= 0 && x <= 1
        }
    }
}

extension SettingType where Value == Double {
    /// Python's float(): `5e-5`, `3E-3`, `.5`, `1`. Written as Swift prints it (`5e-05`), which
    /// earlier checkpoints hold too.
    public static func number(_ bound: NumberBound) -> Self {
        Self(bound.name, read: { text in
            guard let x = Double(text), x.isFinite else { throw SettingProblem("is not a number") }
            guard bound.contains(x) else { throw SettingProblem("is out of range") }
            return x
        }, write: { "\($0)" })
    }
}

extension SettingType where Value == Bool {
    /// `true`/`false` in any case (Python's `True`), also `1`/`0` and `yes`/`no`.
    public static let boolean = Self("true|false", read: { text in
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw SettingProblem("is not true or false (nor 1/0, yes/no)")
        }
    }, write: { "\($0)" })
}

extension SettingType where Value == String {
    public static let path = text(named: "path")
    public static let text = text(named: "text")

    /// Unset words are refused here: a key of this type needs a value (optional keys never reach
    /// their type with one).
    private static func text(named name: String) -> Self {
        Self(name, read: { text in
            guard !SettingValue.isUnset(text) else { throw SettingProblem("leaves the key unset, but it needs a \(name)") }
            return text
        }, write: { $0 })
    }
}

extension SettingType where Value: RawRepresentable & CaseIterable & Sendable, Value.RawValue == String {
    /// One of an enum's raw values; the error lists them all.
    public static var choice: Self {
        let allowed = Value.allCases.map(\.rawValue).joined(separator: "|")
        return Self("one of \(allowed)", read: { text in
            guard let value = Value(rawValue: text) ?? Value(rawValue: text.lowercased()) else {
                throw SettingProblem("is not a known choice")
            }
            return value
        }, write: { $0.rawValue })
    }
}

extension SettingType where Value == [Int] {
    /// `0,1,2`, `[0, 1, 2]`, or a list in a file. Written as `[0, 1, 2]`, which reads back the same,
    /// the empty list included.
    public static let integerList = Self("list of integers, e.g. 0,1,2", readValue: { value in
        let items: [String]
        switch value {
        case .list(let list): items = list
        case .text(let text):
            var inner = Substring(text.trimmingCharacters(in: .whitespaces))
            if inner.hasPrefix("["), inner.hasSuffix("]") { inner = inner.dropFirst().dropLast() }
            let trimmed = inner.trimmingCharacters(in: .whitespaces)
            items = trimmed.isEmpty ? [] : trimmed.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return try items.map { item in
            guard let n = Int(item) else { throw SettingProblem("has '\(item)', which is not an integer") }
            return n
        }
    }, write: { "[" + $0.map(String.init).joined(separator: ", ") + "]" })
}
