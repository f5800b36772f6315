import Compute
import Foundation
import JSON
import Tokenizers

/// One sample of the memory stages (method.md §4, §6): its tokens and loss mask, where its prompt
/// ends (q̄ is the mean over the positions before it), the retrieval query text and the gold row.
public struct MemoryTrainingSample: Sendable {
    /// The conversation, system message included (empty for plain text).
    public var messages: [ChatMessage]
    public var ids: [Int32]
    /// lossMask[i]: token i is a target of the LM loss.
    public var lossMask: [Bool]
    /// Tokens before the answer being predicted.
    public var promptLength: Int
    /// The user content of the turn being answered (plain text: the prompt's text).
    public var query: String
    /// The bank row of the line's `fact_uuid`.
    public var goldRow: Int?
    /// 1-based line in the data file.
    public var line: Int

    /// The answer being predicted: the last assistant turn's content.
    public var answer: String? { messages.last(where: { $0.role == .assistant })?.content }
}

/// Reading the memory stages' data: the seed's conversations (fusion, memory) and `{"text"}` lines
/// (joint), as samples whose prompt is exactly what generation will see.
public struct MemoryTrainingData {
    public let tokenizer: BPETokenizer
    public let template: ChatTemplate
    public let systemMessage: String?
    public let maxSeqLen: Int

    public init(tokenizer: BPETokenizer, systemMessage: String?, maxSeqLen: Int) throws {
        self.tokenizer = tokenizer
        template = try tokenizer.chatTemplate(allowChatML: true)
        self.systemMessage = systemMessage
        self.maxSeqLen = maxSeqLen
    }

    /// The conversations of `url`; `rowsByUUID` maps a line's `fact_uuid` to its gold row. Bad lines
    /// are errors naming file:line, or with `skipInvalid` are skipped and returned as problems.
    public func conversations(_ url: URL, rowsByUUID: [String: Int], skipInvalid: Bool) throws -> (samples: [MemoryTrainingSample], problems: [String]) {
        let dataset = try ConversationDataset.load(url: url, skipBadLines: skipInvalid)
        var samples: [MemoryTrainingSample] = [], problems = dataset.problems
        for c in dataset.conversations {
            do {
                var gold: Int?
                if let uuid = c.factUUID {
                    guard let row = rowsByUUID[uuid] else { throw ConfigError("fact_uuid \"\(uuid)\" is not a row of the bank") }
                    gold = row
                }
                samples.append(try sample(c.messages, goldRow: gold, line: c.line))
            } catch {
                let problem = "\(url.path):\(c.line): \(error)"
                guard skipInvalid else { throw ConfigError(problem) }
                problems.append(problem)
            }
        }
        if samples.isEmpty { throw ConfigError("\(url.path): no usable conversation") }
        return (samples, problems)
    }

    /// One conversation (a system message is put first when configured and the conversation has
    /// none). The prompt is the conversation before its last assistant turn rendered with the
    /// generation prompt, as `generate --chat` renders a question: the answer being predicted starts
    /// where the loss does (Qwen3's empty think block is part of it, method §6).
    public func sample(_ conversation: [ChatMessage], goldRow: Int?, line: Int) throws -> MemoryTrainingSample {
        var messages = conversation
        if let systemMessage, messages.first?.role != .system {
            messages.insert(ChatMessage(role: .system, content: systemMessage), at: 0)
        }
        guard let last = messages.lastIndex(where: { $0.role == .assistant }) else { throw ConfigError("no assistant turn") }
        let sequence = try tokenizer.trainingSequence(messages, template: template, maxLength: maxSeqLen)
        let prompt = try promptIds(Array(messages[..<last]))
        guard prompt.count < sequence.ids.count, Array(sequence.ids.prefix(prompt.count)) == prompt else {
            throw ConfigError("the answer does not fit in model.max_seq_len \(maxSeqLen) after a prompt of \(prompt.count) tokens")
        }
        let query = messages[..<last].last(where: { $0.role == .user })?.content ?? ""
        return MemoryTrainingSample(messages: messages, ids: sequence.ids, lossMask: sequence.lossMask, promptLength: prompt.count,
                                    query: query, goldRow: goldRow, line: line)
    }

    /// The tokens generation starts from: `messages` with the generation prompt.
    public func promptIds(_ messages: [ChatMessage]) throws -> [Int32] {
        tokenizer.encode(try template.render(messages, addGenerationPrompt: true))
    }

    /// The same sample with its last answer replaced (the counterfactual swap), re-rendered.
    public func replacingAnswer(_ s: MemoryTrainingSample, with answer: String) throws -> MemoryTrainingSample {
        var messages = s.messages
        guard let last = messages.lastIndex(where: { $0.role == .assistant }) else { return s }
        messages[last].content = answer
        return try sample(messages, goldRow: s.goldRow, line: s.line)
    }

    /// `{"text": ...}` lines (the joint stage): the first min(T, 64) tokens are the prompt and carry
    /// no loss, every later token does; the query is the prompt's text.
    public func texts(_ url: URL, endOfText: Int32) throws -> [MemoryTrainingSample] {
        var samples: [MemoryTrainingSample] = []
        for (line, object) in try readJSONLines(url) {
            guard let text = object["text"]?.stringValue else { throw ConfigError("\(url.path):\(line): missing string field \"text\"") }
            let ids = Array((tokenizer.encode(text) + [endOfText]).prefix(maxSeqLen))
            let prompt = min(ids.count, 64)
            guard prompt < ids.count else {
                throw ConfigError("\(url.path):\(line): \(ids.count) tokens leave nothing after the 64-token prompt to train on")
            }
            samples.append(MemoryTrainingSample(
                messages: [], ids: ids, lossMask: ids.indices.map { $0 >= prompt }, promptLength: prompt,
                query: tokenizer.decode(Array(ids.prefix(prompt)), skipSpecialTokens: true), goldRow: nil, line: line))
        }
        if samples.isEmpty { throw ConfigError("\(url.path): no {\"text\": ...} lines") }
        return samples
    }
}

extension MemoryTrainingSample {
    /// Input ids right-padded with `pad` to `length`, and targets: the next token where it carries
    /// the loss, else −100.
    func row(length: Int, pad: Int32) -> (input: [Int32], target: [Int32]) {
        let input = ids + Array(repeating: pad, count: length - ids.count)
        var target = [Int32](repeating: CrossEntropy.ignoreIndex, count: length)
        for t in 0..<(ids.count - 1) where lossMask[t + 1] { target[t] = ids[t + 1] }
        return (input, target)
    }
}
