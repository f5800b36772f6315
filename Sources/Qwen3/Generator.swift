import Compute
import Dispatch

/// Autoregressive generation with a KV cache: prefill the prompt, then one token at a time until an
/// end-of-sequence id or `maxNewTokens`.
public struct Generator {
    public let model: Qwen3Model
    public var eosTokenIds: Set<Int32>

    public init(model: Qwen3Model, eosTokenIds: Set<Int32>) {
        self.model = model
        self.eosTokenIds = eosTokenIds
    }

    /// Generates after `prompt`; `onToken` sees each new id as it is chosen (for streaming) and may
    /// return false to stop. Returns the new ids, the end-of-sequence id included when one was chosen.
    /// The prompt is prefilled in chunks of `chunkSize` tokens.
    @discardableResult
    public func generate(
        prompt: [Int32], maxNewTokens: Int, sampler: inout Sampler, chunkSize: Int = 512,
        afterLayer: Qwen3Model.LayerHook? = nil, timings: GenerationTimings? = nil, onToken: (Int32) -> Bool = { _ in true }
    ) -> [Int32] {
        guard maxNewTokens > 0 else { return [] }
        // The cache grows by doubling: room for the prompt and a first stretch of answer, not for
        // every token `maxNewTokens` allows (an answer usually ends at an eos id long before).
        let cache = KVCache(config: model.config, capacity: prompt.count + min(maxNewTokens, 256))
        let prefillStart = DispatchTime.now()
        var logits = model.forward(prompt, cache: cache, logits: .last, chunkSize: chunkSize, afterLayer: afterLayer)
        timings?.prefillSeconds = DispatchTime.seconds(since: prefillStart)
        timings?.promptTokens = prompt.count
        var generated: [Int32] = []
        var decodeSeconds = 0.0
        while true {
            let id = sampler.next(logits.data, vocab: model.config.vocabSize)
            generated.append(id)
            if !onToken(id) || eosTokenIds.contains(id) || generated.count >= maxNewTokens { break }
            let start = DispatchTime.now()
            logits = model.forward([id], cache: cache, logits: .last, afterLayer: afterLayer)
            decodeSeconds += DispatchTime.seconds(since: start)
        }
        timings?.generatedTokens = generated.count
        timings?.decodeSeconds = decodeSeconds
        return generated
    }
}

/// Where a generation's time went: the prefill (first prompt token in to the first logits out) and
/// the decode steps that made the new tokens after the first (each one forward pass).
public final class GenerationTimings {
    public var promptTokens = 0
    public var prefillSeconds = 0.0
    public var generatedTokens = 0
    public var decodeSeconds = 0.0

    public init() {}

    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    /// Over the new tokens after the first, which the prefill's logits chose.
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(generatedTokens - 1) / decodeSeconds : 0 }
}

extension DispatchTime {
    /// Seconds from `start` to now.
    public static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
