/// The reference implementation accepted a mistyped key silently, and the run went on with the
/// default. Here an unknown key is an error, and it names the key that was probably meant.
extension SettingsTable {
    func unknownKey(_ name: String) -> ConfigError {
        if let nearest = nearestKey(to: name) {
            return ConfigError("unknown key '\(name)' (did you mean '\(nearest)'?)")
        }
        let section = String(name.split(separator: ".").first ?? "")
        let inSection = keys.map(\.name).filter { $0.hasPrefix(section + ".") }
        if !inSection.isEmpty {
            return ConfigError("unknown key '\(name)' (the \(section) keys: \(inSection.joined(separator: ", ")))")
        }
        var sections: [String] = []
        for key in keys {
            let first = String(key.name.split(separator: ".").first ?? "")
            if !sections.contains(first) { sections.append(first) }
        }
        return ConfigError("unknown key '\(name)' (keys are section.name, the sections: \(sections.joined(separator: ", ")); --help lists every key)")
    }

    /// The key nearest by edit distance, whole name against whole name or last part against last
    /// part (`learning_rate` → `training.learning_rate`), when it is near enough to be a typo.
    func nearestKey(to name: String) -> String? {
        let lastPart = Self.lastPart(of: name)
        let scored = keys.map { key in
            (key.name, min(editDistance(name, key.name), editDistance(lastPart, Self.lastPart(of: key.name)) + 1))
        }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, lastPart.count / 3) else { return nil }
        return best.0
    }

    private static func lastPart(of name: String) -> String { String(name.split(separator: ".").last ?? "") }
}

/// Levenshtein distance: the fewest insertions, deletions and substitutions of characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let b = Array(b)
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
        var current = [i + 1]
        for (j, y) in b.enumerated() {
            current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
        }
        previous = current
    }
    return previous[b.count]
}
