/// One setting's value as it was given: text (a `key=value` argument or a file's scalar) or a
/// file's list. Each key's `SettingType` coerces it.
public enum SettingValue: Sendable, Equatable {
    case text(String)
    case list([String])

    /// The value as the user wrote it, for messages.
    var shown: String {
        switch self {
        case .text(let text): return text
        case .list(let items): return "[" + items.joined(separator: ", ") + "]"
        }
    }

    /// `None` (Python's), `null` (JSON's, YAML's) and the empty string leave an optional key unset,
    /// as the seed's tooling reads them.
    static func isUnset(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return lowered.isEmpty || lowered == "none" || lowered == "null"
    }
}

/// Why a value does not fit its type ("is not an integer"); `SettingKey` adds the key and value.
struct SettingProblem: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
