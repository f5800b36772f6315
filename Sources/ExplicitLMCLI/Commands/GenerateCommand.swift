import ArgumentParser
import Foundation
import Qwen3

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a continuation of a prompt given as token ids.",
        discussion: "Greedy by default; --temperature > 0 samples, optionally restricted by --top-k and --top-p. "
            + "Stops at an end-of-sequence id of generation_config.json or config.json, or after --max-new-tokens.")

    @OptionGroup var model: ModelOptions
    @Option(help: "Prompt as comma-separated token ids.") var ids: String
    @Option(help: "Most new tokens to generate.") var maxNewTokens = 64
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(help: "Keep only the k most likely tokens (0: all).") var topK = 0
    @Option(help: "Keep the smallest set of tokens whose probability reaches p (1: all).") var topP: Float = 1
    @Option(help: "Random seed for sampling.") var seed: UInt64 = 0
    @Flag(help: "Print the generated ids (without the prompt) space-separated on one line.") var printIds = false

    func validate() throws {
        guard maxNewTokens >= 0 else { throw ValidationError("--max-new-tokens must be ≥ 0") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be ≥ 0") }
        guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
    }

    func run() throws {
        let prompt = try parseIds(ids)
        let qwen = try Qwen3Model.load(directory: model.directory)
        try checkVocabulary(prompt, vocabSize: qwen.config.vocabSize)
        let eos = try Qwen3Model.eosTokenIds(directory: model.directory, config: qwen.config)
        var sampler = Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed)
        let generated = Generator(model: qwen, eosTokenIds: eos)
            .generate(prompt: prompt, maxNewTokens: maxNewTokens, sampler: &sampler)
        // Without a tokenizer there is no text to show: ids are printed either way.
        print(generated.map(String.init).joined(separator: " "))
    }
}
