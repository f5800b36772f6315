import Compute
import JSON

/// What the training checkpoints (pretrain's and the memory stages') keep in `__metadata__` as text:
/// the RNG state as four hex words, and the run's configuration as a JSON object of strings.
enum CheckpointMetadata {
    static func rng(_ generator: SeededGenerator) -> String {
        generator.words.map { String($0, radix: 16) }.joined(separator: ",")
    }

    static func rng(_ text: String, path: String) throws -> SeededGenerator {
        let words = text.split(separator: ",").compactMap { UInt64($0, radix: 16) }
        guard words.count == 4 else { throw ConfigError("\(path): __metadata__ \"rng\" is not four hex words") }
        return SeededGenerator(state: words)
    }

    static func settings(_ settings: [String: String]) -> String {
        JSONValue.object(settings.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }).pythonJSON()
    }

    static func settings(_ text: String, path: String) throws -> [String: String] {
        guard let members = (try? JSONValue.parse(text))?.objectValue else {
            throw ConfigError("\(path): __metadata__ \"config\" is not a JSON object of strings")
        }
        var settings: [String: String] = [:]
        for (key, value) in members {
            guard let text = value.stringValue else {
                throw ConfigError("\(path): __metadata__ \"config\" key \"\(key)\" is \(value.typeName), not a string")
            }
            settings[key] = text
        }
        return settings
    }
}
