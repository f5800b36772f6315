import Foundation
import JSON

/// A chat format, rendered natively (no Jinja engine).
public enum ChatTemplate: Sendable {
    /// Qwen3's official template (tokenizer_config.json), reproduced branch for branch.
    case qwen3
    /// Plain ChatML: `<|im_start|>role\ncontent<|im_end|>\n` for every message.
    case chatML

    /// The template for a checkpoint's `chat_template` source: Qwen3's, or an error naming the problem;
    /// with `allowChatML`, any other template (or none) falls back to plain ChatML.
    public static func detect(source: String?, allowChatML: Bool = false) throws -> ChatTemplate {
        if let source, source.trimmingCharacters(in: .whitespacesAndNewlines)
            == qwen3ChatTemplateSource.trimmingCharacters(in: .whitespacesAndNewlines) {
            return .qwen3
        }
        if allowChatML { return .chatML }
        if source == nil {
            throw TokenizerError("tokenizer_config.json has no chat_template; ask for plain ChatML to render anyway")
        }
        throw TokenizerError("the checkpoint's chat_template is not Qwen3's; only Qwen3's is rendered natively (ask for plain ChatML to use that instead)")
    }

    /// The rendered conversation, byte-identical with transformers' `apply_chat_template(messages,
    /// tools=tools, add_generation_prompt=..., enable_thinking=...)`. `enableThinking` nil means
    /// "not given"; only `false` changes the output (the empty think block after the generation prompt).
    public func render(_ messages: [ChatMessage], tools: [JSONValue] = [], addGenerationPrompt: Bool = false,
                       enableThinking: Bool? = nil) throws -> String {
        try renderWithSpans(messages, tools: tools, addGenerationPrompt: addGenerationPrompt, enableThinking: enableThinking).text
    }

    /// The rendered text and, for every assistant turn, the UTF-8 byte range from just after
    /// `<|im_start|>assistant\n` through its `<|im_end|>` (the tokens that carry the LM loss).
    public func renderWithSpans(_ messages: [ChatMessage], tools: [JSONValue] = [], addGenerationPrompt: Bool = false,
                                enableThinking: Bool? = nil) throws -> (text: String, assistantSpans: [Range<Int>]) {
        guard !messages.isEmpty else { throw TokenizerError("chat template: no messages to render") }
        switch self {
        case .qwen3: return Qwen3Renderer.render(messages, tools: tools, addGenerationPrompt: addGenerationPrompt, enableThinking: enableThinking)
        case .chatML: return ChatMLRenderer.render(messages, addGenerationPrompt: addGenerationPrompt)
        }
    }
}

/// Appends text and records assistant spans in UTF-8 offsets.
struct RenderBuffer {
    var text = ""
    var spans: [Range<Int>] = []
    private var spanStart = -1

    mutating func add(_ s: String) { text += s }
    mutating func beginAssistant() { spanStart = text.utf8.count }
    /// Call right after appending `<|im_end|>`.
    mutating func endAssistant() {
        spans.append(spanStart..<text.utf8.count)
        spanStart = -1
    }
}

enum ChatMLRenderer {
    static func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> (text: String, assistantSpans: [Range<Int>]) {
        var out = RenderBuffer()
        for m in messages {
            out.add("<|im_start|>\(m.role.rawValue)\n")
            if m.role == .assistant { out.beginAssistant() }
            out.add(m.content + "<|im_end|>")
            if m.role == .assistant { out.endAssistant() }
            out.add("\n")
        }
        if addGenerationPrompt { out.add("<|im_start|>assistant\n") }
        return (out.text, out.spans)
    }
}
