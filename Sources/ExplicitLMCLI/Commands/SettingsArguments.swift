import ArgumentParser
import Foundation
import Training

/// The settings of a training command: dotted `key=value` arguments and a `--config` file of them,
/// the arguments overriding the file. Each command lists its keys in its `--help` discussion.
struct SettingsArguments: ParsableArguments {
    @Argument(help: "key=value settings (e.g. training.learning_rate=3e-4); they override --config.")
    var settings: [String] = []

    @Option(name: .customLong("config"), help: ArgumentHelp(
        "A JSON or YAML file of settings: nested maps (training: {learning_rate: 3e-3}) or dotted keys.",
        valueName: "file"))
    var configFile: String?

    var configURL: URL? { configFile.map { URL(fileURLWithPath: $0) } }

    /// Runs `load` on these settings; a bad setting becomes a usage error, printed with the usage.
    func load<Config>(_ load: ([String], URL?) throws -> Config) throws -> Config {
        do { return try load(settings, configURL) } catch let error as ConfigError { throw ValidationError(error.message) }
    }
}
