import Compute
import Foundation
import Qwen3

/// Prefill (logits at every position of 1 × N tokens, or with --prefill-logits last only at the last,
/// as llama-bench's prompt test computes) and greedy decode with the cache.
func benchQwen3(_ options: [String: String]) throws {
    guard let path = options["model"] else { throw BenchError("--model DIR is required") }
    let promptTokens = Int(options["prompt-tokens"] ?? "256")!
    let newTokens = Int(options["new-tokens"] ?? "64")!
    let prefillLogits: Qwen3Model.Logits
    switch options["prefill-logits"] ?? "all" {
    case "all": prefillLogits = .all
    case "last": prefillLogits = .last
    case let other: throw BenchError("--prefill-logits must be all or last, not \(other)")
    }
    var loaded: Qwen3Model!
    let loadSeconds = try seconds { loaded = try Qwen3Model.load(directory: URL(fileURLWithPath: path)) }
    let model = loaded!
    var rng = SeededGenerator(seed: 1)
    let prompt = (0..<promptTokens).map { _ in Int32(rng.next() % UInt64(model.config.vocabSize)) }

    _ = model.forward(Array(prompt.prefix(16)), cache: KVCache(config: model.config), logits: .last)  // warm-up
    // Best of --prefill-repeats (default 1) prefills: fewer samples hit by other work on the machine.
    var prefill = Double.infinity
    for _ in 0..<Int(options["prefill-repeats"] ?? "1")! {
        prefill = min(prefill, seconds {
            _ = model.forward(prompt, cache: KVCache(config: model.config, capacity: promptTokens), logits: prefillLogits)
        })
    }

    var sampler = Sampler()
    let generator = Generator(model: model, eosTokenIds: [])
    let short = Array(prompt.prefix(8))
    // Decode time excludes the prompt: time 1 + N tokens minus the time of 1 token.
    let one = seconds { _ = generator.generate(prompt: short, maxNewTokens: 1, sampler: &sampler) }
    let all = seconds { _ = generator.generate(prompt: short, maxNewTokens: newTokens + 1, sampler: &sampler) }
    printJSON([
        "impl": "explicitlm", "load_s": loadSeconds,
        "prefill_tokens_per_s": Double(promptTokens) / prefill,
        "decode_tokens_per_s": Double(newTokens) / (all - one),
        "peak_rss_bytes": peakResidentBytes(),
    ])
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
