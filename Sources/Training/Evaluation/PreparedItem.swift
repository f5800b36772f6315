import Foundation
import Memory
import Tokenizers

extension MemoryEvaluator {
    /// An item's ids: the prompt (the turns before the answer with the generation prompt), the
    /// template's preamble of the answer, and each option's tokens.
    struct PreparedItem {
        let item: EvaluationItem
        let prompt: [Int32]
        /// What the template writes between the generation prompt and the answer's content (Qwen3:
        /// the empty think block). Training puts it in the assistant turn, so the model reads it
        /// before answering; it is fed, not generated, and is not part of the prompt (q̄).
        let preamble: [Int32]
        let options: [[Int32]]
        var input: [Int32] { prompt + preamble }
    }

    func prepare(_ item: EvaluationItem) throws -> PreparedItem {
        let template = settings.template
        let promptText: String, fullText: String
        let placeholder = "\u{E000}"
        do {
            promptText = try template.render(item.messages, addGenerationPrompt: true)
            fullText = try template.render(item.messages + [ChatMessage(role: .assistant, content: placeholder)])
        } catch {
            throw EvaluationError("\(item.source): \(error)")
        }
        guard fullText.hasPrefix(promptText), let end = fullText[promptText.endIndex...].range(of: placeholder) else {
            throw EvaluationError("\(item.source): the chat template does not put the answer after the generation prompt")
        }
        let preamble = String(fullText[promptText.endIndex..<end.lowerBound])
        let prepared = PreparedItem(item: item, prompt: tokenizer.encode(promptText), preamble: preamble.isEmpty ? [] : tokenizer.encode(preamble),
                                    options: item.options.map { tokenizer.encode($0) })
        if let empty = prepared.options.firstIndex(where: \.isEmpty) {
            throw EvaluationError("\(item.source): option \(empty) encodes to no tokens")
        }
        let config = memory.backbone.config
        if let bad = (prepared.input + prepared.options.joined()).first(where: { Int($0) >= config.vocabSize }) {
            throw EvaluationError("\(item.source): token id \(bad) is outside the model's vocabulary of \(config.vocabSize)")
        }
        do {
            try config.checkGeneration(promptTokens: prepared.input.count,
                                       maxNewTokens: max(settings.maxNewTokens, prepared.options.map(\.count).max() ?? 0))
        } catch {
            throw EvaluationError("\(item.source): \(error)")
        }
        return prepared
    }
}
