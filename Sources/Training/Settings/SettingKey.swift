/// One setting, declared once: its dotted name (`training.learning_rate`), its type, a one-line
/// help and where it lives in `Config`. Parsing, settings files, `--help` and the saved
/// configuration all read the declaration, so they cannot disagree.
public struct SettingKey<Config>: Sendable {
    public let name: String
    /// What is allowed ("integer in 1...65536"); optional keys add "or None".
    public let typeName: String
    public let help: String
    private let assign: @Sendable (inout Config, SettingValue) throws -> Void
    private let read: @Sendable (Config) -> String

    /// A key that always has a value.
    public init<Value>(_ name: String, _ property: WritableKeyPath<Config, Value> & Sendable,
                       _ type: SettingType<Value>, _ help: String) {
        self.name = name
        self.typeName = type.name
        self.help = help
        self.assign = { config, value in config[keyPath: property] = try type.read(value) }
        self.read = { config in type.write(config[keyPath: property]) }
    }

    /// A key that may be unset (`None`, `null`, empty); unset is saved as the empty string.
    public init<Value>(_ name: String, optional property: WritableKeyPath<Config, Value?> & Sendable,
                       _ type: SettingType<Value>, _ help: String) {
        self.name = name
        self.typeName = type.name + " or None"
        self.help = help
        self.assign = { config, value in
            if case .text(let text) = value, SettingValue.isUnset(text) {
                config[keyPath: property] = nil
            } else {
                config[keyPath: property] = try type.read(value)
            }
        }
        self.read = { config in config[keyPath: property].map(type.write) ?? "" }
    }

    /// Sets the key from `value`; a bad value is an error naming the key, the value and what is allowed.
    func set(_ value: SettingValue, in config: inout Config) throws {
        do {
            try assign(&config, value)
        } catch let problem as SettingProblem {
            throw ConfigError("\(name): '\(value.shown)' \(problem.reason) (allowed: \(typeName))")
        }
    }

    /// The key's value in `config` as text, the empty string when unset.
    func text(in config: Config) -> String { read(config) }
}
