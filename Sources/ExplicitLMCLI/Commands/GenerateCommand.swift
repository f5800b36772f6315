import ArgumentParser
import Foundation
import JSON
import Memory
import Qwen3
import Tokenizers

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a continuation of a prompt given as text or as token ids.",
        discussion: "Greedy by default; --temperature > 0 samples, optionally restricted by --top-k and --top-p. "
            + "Stops at an end-of-sequence id of generation_config.json or config.json, or after --max-new-tokens. "
            + "Text is streamed as it is generated; --print-ids prints the new ids instead.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var computeOptions: ComputeOptions
    @Option(help: "Prompt as comma-separated token ids.") var ids: String?
    @Option(help: "Prompt as text, encoded with the model's tokenizer.json.") var prompt: String?
    @Flag(help: "Render --prompt as a user turn of the chat template, with the generation prompt.") var chat = false
    @Option(help: "With --chat: a system message before the user turn.") var system: String?
    @Option(help: "With --chat: true or false sets the template's enable_thinking (false gives the empty think block).")
    var enableThinking: Bool?
    @Option(help: "tokenizer.json or its directory (default: the model directory).") var tokenizer: String?
    @Option(help: "Most new tokens to generate.") var maxNewTokens = 64
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(help: "Keep only the k most likely tokens (0: all).") var topK = 0
    @Option(help: "Keep the smallest set of tokens whose probability reaches p (1: all).") var topP: Float = 1
    @Option(help: "Random seed for sampling.") var seed: UInt64 = 0
    @Flag(help: "Print the generated ids (without the prompt) space-separated on one line.") var printIds = false
    @OptionGroup var memoryOptions: MemoryOptions
    @Flag(help: "With --memory: after the answer, print the bank rows the answer used, with their text.") var showMemory = false
    @Flag(help: "Print {\"text\", \"ids\", \"memory\": [{\"row\", \"text\", \"score\"}]} instead of streaming.") var json = false
    @Flag(help: "After the run, print one JSON line on stderr: prompt_tokens, prefill_tokens_per_s, generated_tokens, decode_tokens_per_s, load_s.")
    var stats = false

    func validate() throws {
        guard (ids == nil) != (prompt == nil) else { throw ValidationError("give exactly one of --ids and --prompt") }
        if chat && prompt == nil { throw ValidationError("--chat needs --prompt") }
        if (system != nil || enableThinking != nil) && !chat { throw ValidationError("--system and --enable-thinking need --chat") }
        guard maxNewTokens >= 0 else { throw ValidationError("--max-new-tokens must be ≥ 0") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be a finite number ≥ 0") }
        guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        if showMemory && memoryOptions.memory == nil { throw ValidationError("--show-memory needs --memory and --checkpoint") }
        if json && printIds { throw ValidationError("give at most one of --json and --print-ids") }
    }

    func run() throws {
        let started = DispatchTime.now()
        let qwen = try computeOptions.loadModel(model.directory)
        // A tokenizer is needed for text in, and used for text out whenever there is one.
        let tokenizerURL = tokenizer.map { URL(fileURLWithPath: $0) } ?? model.directory
        let hasTokenizer = tokenizer != nil
            || FileManager.default.fileExists(atPath: model.directory.appendingPathComponent("tokenizer.json").path)
        let tok = hasTokenizer || prompt != nil ? try BPETokenizer(url: tokenizerURL) : nil

        let promptIds: [Int32]
        if let ids {
            promptIds = try parseIds(ids)
        } else if let prompt, let tok {
            var text = prompt
            if chat {
                var messages = system.map { [ChatMessage(role: .system, content: $0)] } ?? []
                messages.append(ChatMessage(role: .user, content: prompt))
                text = try tok.renderChat(messages, addGenerationPrompt: true, enableThinking: enableThinking)
            }
            promptIds = tok.encode(text)
        } else {
            preconditionFailure("validate() admits --ids or --prompt")
        }
        guard !promptIds.isEmpty else { throw CLIError("the prompt encodes to no tokens") }
        try checkVocabulary(promptIds, vocabSize: qwen.config.vocabSize)
        try qwen.config.checkGeneration(promptTokens: promptIds.count, maxNewTokens: maxNewTokens)

        // The retrieval query: the user's own words, not the template around them.
        let defaultQuery = prompt ?? tok.map { $0.decode(promptIds, skipSpecialTokens: true) } ?? ""
        let memory = try memoryOptions.prepare(backbone: qwen, modelDirectory: model.directory, defaultQuery: defaultQuery,
                                               promptLength: promptIds.count)

        let eos = try Qwen3Model.eosTokenIds(directory: model.directory, config: qwen.config)
        var sampler = Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed)
        let generator = Generator(model: qwen, eosTokenIds: eos)
        let used = { memory?.rowsUsed(from: promptIds.count) ?? [] }
        let chunk = memory?.prefillChunkSize(prompt: promptIds.count) ?? 512
        let timings = GenerationTimings()
        let loadSeconds = DispatchTime.seconds(since: started)
        defer { if stats { printStats(timings, loadSeconds: loadSeconds) } }
        guard let tok, !printIds else {
            let generated = generator.generate(prompt: promptIds, maxNewTokens: maxNewTokens, sampler: &sampler, chunkSize: chunk,
                                               afterLayer: memory?.hook, timings: timings)
            print(generated.map(String.init).joined(separator: " "))
            if showMemory, let memory { try printRows(used(), bank: memory.bank) }
            return
        }
        if json {
            let generated = generator.generate(prompt: promptIds, maxNewTokens: maxNewTokens, sampler: &sampler, chunkSize: chunk,
                                               afterLayer: memory?.hook, timings: timings)
            let rows: [JSONValue] = try memory.map { m in
                try used().map { r in .object([("row", .number(String(r.row))), ("text", .string(try m.bank.row(r.row)?.text ?? "")),
                                             ("score", .number(jsonNumber(r.score)))]) }
            } ?? []
            print(JSONValue.object([("text", .string(tok.decode(generated, skipSpecialTokens: true))),
                                    ("ids", .array(generated.map { .number(String($0)) })), ("memory", .array(rows))]).pythonJSON())
            return
        }
        var decoder = tok.makeStreamingDecoder(skipSpecialTokens: true)
        let out = FileHandle.standardOutput
        generator.generate(prompt: promptIds, maxNewTokens: maxNewTokens, sampler: &sampler, chunkSize: chunk, afterLayer: memory?.hook,
                           timings: timings, onToken: { id in
            out.write(Data(decoder.push(id).utf8))
            return true
        })
        out.write(Data((decoder.finish() + "\n").utf8))
        if showMemory, let memory { try printRows(used(), bank: memory.bank) }
    }

    /// One JSON line on stderr, after everything on stdout.
    private func printStats(_ t: GenerationTimings, loadSeconds: Double) {
        let line = JSONValue.object([
            ("prompt_tokens", .number(String(t.promptTokens))), ("prefill_tokens_per_s", .number(jsonNumber(t.prefillTokensPerSecond))),
            ("generated_tokens", .number(String(t.generatedTokens))), ("decode_tokens_per_s", .number(jsonNumber(t.decodeTokensPerSecond))),
            ("load_s", .number(jsonNumber(loadSeconds))),
        ]).pythonJSON()
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// "memory: row R (score S): text" for each row the answer used.
    private func printRows(_ rows: [RetrievedRow], bank: MemoryBank) throws {
        if rows.isEmpty { print("memory: no row (nothing retrieved for the query)") }
        for r in rows { print("memory: row \(r.row) (score \(jsonNumber(r.score))): \(try bank.row(r.row)?.text ?? "")") }
    }
}
