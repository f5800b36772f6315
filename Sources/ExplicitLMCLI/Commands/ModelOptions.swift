import ArgumentParser
import Foundation

/// `--model DIR`: a Qwen3 checkpoint directory in Hugging Face format.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Qwen3 checkpoint directory (config.json, *.safetensors, generation_config.json).")
    var model: String

    var directory: URL { URL(fileURLWithPath: model) }

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--model \(model): no such directory")
        }
    }
}

/// Parses `--ids 1,2,3`.
func parseIds(_ text: String, option: String = "--ids") throws -> [Int32] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }
    var ids: [Int32] = []
    for part in parts {
        guard let id = Int32(part), id >= 0 else {
            throw ValidationError("\(option): '\(part)' is not a token id (expected comma-separated non-negative integers)")
        }
        ids.append(id)
    }
    guard !ids.isEmpty else { throw ValidationError("\(option) is empty") }
    return ids
}

/// Checks that every id is inside the model's vocabulary.
func checkVocabulary(_ ids: [Int32], vocabSize: Int) throws {
    if let bad = ids.first(where: { Int($0) >= vocabSize }) {
        throw CLIError("token id \(bad) is outside the vocabulary of \(vocabSize)")
    }
}

/// A failure found while running a command: printed as "Error: …" with exit status 1, without
/// the usage text that ArgumentParser adds to validation errors.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
