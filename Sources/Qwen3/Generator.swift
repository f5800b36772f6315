import Compute

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
        afterLayer: Qwen3Model.LayerHook? = nil, onToken: (Int32) -> Bool = { _ in true }
    ) -> [Int32] {
        guard maxNewTokens > 0 else { return [] }
        // The cache grows by doubling: room for the prompt and a first stretch of answer, not for
        // every token `maxNewTokens` allows (an answer usually ends at an eos id long before).
        let cache = KVCache(config: model.config, capacity: prompt.count + min(maxNewTokens, 256))
        var logits = model.forward(prompt, cache: cache, logits: .last, chunkSize: chunkSize, afterLayer: afterLayer)
        var generated: [Int32] = []
        while true {
            let id = sampler.next(logits.data, vocab: model.config.vocabSize)
            generated.append(id)
            if !onToken(id) || eosTokenIds.contains(id) || generated.count >= maxNewTokens { break }
            logits = model.forward([id], cache: cache, logits: .last, afterLayer: afterLayer)
        }
        return generated
    }
}
