import JSON

/// A rendered, tokenized conversation with the tokens that carry the LM loss (method.md §6: every
/// assistant turn, from the token after `<|im_start|>assistant\n` through `<|im_end|>` inclusive).
public struct TrainingSequence: Sendable, Equatable {
    public let ids: [Int32]
    /// lossMask[i]: token i is a target of the LM loss. Same length as `ids`.
    public let lossMask: [Bool]

    public init(ids: [Int32], lossMask: [Bool]) {
        precondition(ids.count == lossMask.count, "ids and lossMask differ in length")
        self.ids = ids
        self.lossMask = lossMask
    }

    public var trainableCount: Int { lossMask.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

extension BPETokenizer {
    /// The checkpoint's chat template (tokenizer_config.json beside tokenizer.json): Qwen3's, or an error;
    /// with `allowChatML`, plain ChatML for any other template.
    public func chatTemplate(allowChatML: Bool = false) throws -> ChatTemplate {
        try ChatTemplate.detect(source: chatTemplateSource, allowChatML: allowChatML)
    }

    /// The conversation as text, in the checkpoint's chat format (see `ChatTemplate.render`).
    public func renderChat(_ messages: [ChatMessage], tools: [JSONValue] = [], addGenerationPrompt: Bool = false,
                           enableThinking: Bool? = nil, allowChatML: Bool = false) throws -> String {
        try chatTemplate(allowChatML: allowChatML).render(messages, tools: tools, addGenerationPrompt: addGenerationPrompt,
                                                          enableThinking: enableThinking)
    }

    /// Renders `messages` (no generation prompt), encodes the text and marks the assistant tokens.
    /// With `maxLength`, ids and mask are cut to the first `maxLength` tokens together. Throws when the
    /// conversation has no assistant turn or no assistant token survives the cut.
    public func trainingSequence(_ messages: [ChatMessage], template: ChatTemplate = .qwen3,
                                 maxLength: Int? = nil) throws -> TrainingSequence {
        guard messages.contains(where: { $0.role == .assistant }) else {
            throw TokenizerError("conversation has no assistant turn, so no token would carry the loss")
        }
        let (text, spans) = try template.renderWithSpans(messages)
        let (ids, ends) = encodeWithOffsets(text)
        var mask = BPETokenizer.assistantMask(tokenEnds: ends, spans: spans)
        var kept = ids
        if let maxLength, ids.count > maxLength {
            precondition(maxLength > 0, "maxLength must be positive")
            kept = Array(ids.prefix(maxLength))
            mask = Array(mask.prefix(maxLength))
        }
        let sequence = TrainingSequence(ids: kept, lossMask: mask)
        if sequence.trainableCount == 0 {
            throw TokenizerError("no assistant token within the first \(kept.count) of \(ids.count) tokens")
        }
        return sequence
    }

    /// Token i (bytes ends[i-1]..<ends[i]) is marked when it overlaps an assistant span. A token that
    /// straddles a span's start (e.g. "\n\n" when the answer itself starts with "\n") counts as answer.
    public static func assistantMask(tokenEnds ends: [Int], spans: [Range<Int>]) -> [Bool] {
        var mask = [Bool](repeating: false, count: ends.count)
        var s = 0
        var start = 0
        for i in ends.indices {
            let end = ends[i]
            while s < spans.count && spans[s].upperBound <= start { s += 1 }
            if s < spans.count && end > spans[s].lowerBound && start < spans[s].upperBound { mask[i] = true }
            start = end
        }
        return mask
    }
}
