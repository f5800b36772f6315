import Foundation
import Yams

/// A `--config` file, JSON or YAML, flattened to dotted keys: nested maps (`training:` /
/// `  learning_rate: 3e-3`), dotted keys (`training.learning_rate: 3e-3`) or a mix of both. JSON is
/// read by the YAML reader too (JSON's syntax is YAML's flow style), so both give line numbers.
/// Values stay text: each key's type coerces them, as it does the command line's.
enum SettingsFile {
    struct Entry {
        let key: String
        let value: SettingValue
        /// Where the key is written (from 1).
        let line: Int?
    }

    static func read(_ url: URL) throws -> [Entry] {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError("\(file): cannot read the settings file (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ConfigError("\(file): the settings file is not UTF-8 text") }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let error as YamlError { throw ConfigError(file + describe(error)) }
        guard let root else { return [] }
        guard case .mapping(let mapping) = root else {
            throw ConfigError("\(file)\(at(root.mark)): expected a map of settings (key: value) at the top")
        }
        var entries: [Entry] = []
        try flatten(mapping, prefix: "", into: &entries, file: file)
        // Nested and dotted spellings can name one key twice, which YAML's own check does not see.
        var lines: [String: Int?] = [:]
        for entry in entries {
            if let earlier = lines[entry.key] {
                throw ConfigError("\(file)\(at(entry.line)): \(entry.key) is set twice (also at line \(earlier.map(String.init) ?? "?"))")
            }
            lines[entry.key] = entry.line
        }
        return entries
    }

    private static func flatten(_ mapping: Node.Mapping, prefix: String, into entries: inout [Entry], file: String) throws {
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                throw ConfigError("\(file)\(at(keyNode.mark)): a key must be a name such as training.learning_rate")
            }
            let key = prefix + keyScalar.string
            let line = keyNode.mark?.line
            switch valueNode {
            case .mapping(let inner):
                try flatten(inner, prefix: key + ".", into: &entries, file: file)
            case .sequence(let sequence):
                let items = try sequence.map { item -> String in
                    guard case .scalar(let scalar) = item else {
                        throw ConfigError("\(file)\(at(item.mark ?? keyNode.mark)): \(key): a list may hold only single values")
                    }
                    return scalar.string
                }
                entries.append(Entry(key: key, value: .list(items), line: line))
            case .scalar(let scalar):
                // YAML's null (`~`, or nothing after the colon) leaves the key unset, as `null` does.
                entries.append(Entry(key: key, value: .text(valueNode.null != nil ? "" : scalar.string), line: line))
            case .alias:
                throw ConfigError("\(file)\(at(valueNode.mark ?? keyNode.mark)): \(key): aliases are not supported in settings files")
            }
        }
    }

    private static func at(_ mark: Mark?) -> String { at(mark?.line) }
    private static func at(_ line: Int?) -> String { line.map { ":\($0)" } ?? "" }

    /// Yams's own descriptions quote the whole document; the problem and its place are enough.
    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ":\(mark.line):\(mark.column): not valid YAML or JSON: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ":\(context.mark.line): \(duplicates.joined(separator: ", ")) set twice in one map"
        case .reader(let problem, _, _, _):
            return ": not readable as YAML or JSON: \(problem)"
        default:
            return ": not readable as YAML or JSON: \(error)"
        }
    }
}
