import Foundation

/// Every key of one configuration type, each declared once. Reading `key=value` arguments and
/// settings files, the `--help` listing and the saved configuration all go through this table.
public struct SettingsTable<Config>: Sendable {
    /// Sorted by name, so that listings and saved settings have one stable order, grouped by section.
    public let keys: [SettingKey<Config>]
    private let positions: [String: Int]

    /// Declaring a name twice is a programming error and stops the process.
    public init(_ keys: [SettingKey<Config>]) {
        self.keys = keys.sorted { $0.name < $1.name }
        positions = Dictionary(uniqueKeysWithValues: self.keys.enumerated().map { ($1.name, $0) })
    }

    /// Applies the settings file, if any, then the `key=value` arguments, which override it.
    public func apply(arguments: [String], configFile: URL?, to config: inout Config) throws {
        if let configFile { try apply(file: configFile, to: &config) }
        try apply(arguments: arguments, to: &config)
    }

    /// Applies `key=value` arguments in order; a key given twice takes its last value.
    public func apply(arguments: [String], to config: inout Config) throws {
        for argument in arguments {
            guard let eq = argument.firstIndex(of: "=") else {
                throw ConfigError("'\(argument)': expected key=value, e.g. training.learning_rate=3e-4")
            }
            try set(String(argument[..<eq]), .text(String(argument[argument.index(after: eq)...])), in: &config)
        }
    }

    /// Applies a JSON or YAML settings file; errors start with the file and the line.
    public func apply(file: URL, to config: inout Config) throws {
        for entry in try SettingsFile.read(file) {
            do {
                try set(entry.key, entry.value, in: &config)
            } catch let error as ConfigError {
                throw ConfigError("\(file.path)\(entry.line.map { ":\($0)" } ?? ""): \(error.message)")
            }
        }
    }

    /// Sets one key; an unknown name is an error that suggests the nearest known one.
    public func set(_ name: String, _ value: SettingValue, in config: inout Config) throws {
        guard let position = positions[name] else { throw unknownKey(name) }
        try keys[position].set(value, in: &config)
    }

    /// Every key with its value as text (unset: the empty string), in key order: the run's whole
    /// configuration, as checkpoints store it. Applying it to a fresh config gives `config` back.
    public func settings(of config: Config) -> [(key: String, value: String)] {
        keys.map { (key: $0.name, value: $0.text(in: config)) }
    }

    /// The `--help` listing: a line per key with its type and default, then its help, indented and
    /// wrapped to 80 columns (ArgumentParser's own wrapping would drop the indentation).
    public func helpText(defaults: Config) -> String {
        keys.map { key in
            let value = key.text(in: defaults)
            let heading = "\(key.name) (\(key.typeName); default: \(value.isEmpty ? "None" : value))"
            return ([heading] + Self.wrap(key.help, width: 75).map { "    " + $0 }).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    private static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        for word in text.split(separator: " ") {
            if let last = lines.last, last.count + 1 + word.count <= width {
                lines[lines.count - 1] += " " + word
            } else {
                lines.append(String(word))
            }
        }
        return lines
    }
}
