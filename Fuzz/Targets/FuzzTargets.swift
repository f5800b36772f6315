import Encoders
import Foundation
import JSON
import Memory
import Qwen3
import SafeTensors
import Tokenizers
import TorchFormat

/// One fuzz target: a parser of hostile input, fed raw bytes. A thrown error is a correct answer;
/// only a crash (a trap, an address-sanitizer report, a hang) is a finding.
public struct FuzzTarget: Sendable {
    public let name: String
    /// libFuzzer's -max_len for this target: room for a small but complete file of its kind.
    public let maxLength: Int
    public let run: @Sendable (UnsafeRawBufferPointer) -> Void
}

/// Every parser that reads files, arguments or requests. Adding one is a function below and a line
/// here ; the
/// libFuzzer driver (Fuzz/Package.swift) and the corpus regression test (Tests/FuzzCorpusTests)
/// pick it up by name.
public enum FuzzTargets {
    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "json", maxLength: 4096, run: json),
        FuzzTarget(name: "safetensors", maxLength: 4096, run: safetensors),
        FuzzTarget(name: "tokenizer", maxLength: 16384, run: tokenizer),
        FuzzTarget(name: "chat", maxLength: 4096, run: chat),
        FuzzTarget(name: "config", maxLength: 4096, run: config),
        FuzzTarget(name: "jsonl", maxLength: 8192, run: jsonLines),
        FuzzTarget(name: "knowledgebase", maxLength: 8192, run: knowledgeBase),
        FuzzTarget(name: "torch", maxLength: 8192, run: torch),
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    /// The JSON reader with its option sets (Hugging Face files, the strict safetensors rules, a small
    /// depth limit), every accessor on what it accepted, and the writer.
    static func json(_ bytes: UnsafeRawBufferPointer) {
        for options in [JSONParseOptions.huggingFace, .strict, JSONParseOptions(maxDepth: 8)] {
            guard let value = try? JSONValue.parse(bytes, options: options) else { continue }
            visit(value)
            _ = value.pythonJSON()
        }
    }

    private static func visit(_ value: JSONValue) {
        _ = (value.intValue, value.nonNegativeInt, value.typeName, value == value)
        switch value {
        case .array(let items): items.forEach(visit)
        case .object(let members): for (key, v) in members { _ = value[key]; visit(v) }
        default: break
        }
    }

    /// A whole safetensors file: the header's validation, then every tensor read as its dtype reads.
    static func safetensors(_ bytes: UnsafeRawBufferPointer) {
        withTemporaryFile(bytes, name: "model.safetensors") { url in
            guard let file = try? SafeTensorsFile(url: url) else { return }
            for name in file.names {
                _ = try? file.bytes(name)
                _ = try? file.tensor(name).data
                _ = try? file.int32s(name)
                _ = try? file.int64s(name)
            }
        }
    }

    /// tokenizer.json as the byte-level BPE (Qwen3) and the WordPiece (BERT) tokenizer read it; a
    /// tokenizer that loads then encodes and decodes a text that touches added tokens, bytes and words.
    static func tokenizer(_ bytes: UnsafeRawBufferPointer) {
        let text = "Hello, wörld!<|im_end|> [CLS] 12 \u{1F600}\n\tx's  [UNK]"
        if let json = try? JSONValue.parse(bytes, options: .huggingFace) {
            if let bpe = try? BPETokenizer(json: json, config: json["fuzz_config"]) {
                let ids = bpe.encode(text)
                _ = bpe.decode(ids)
                _ = bpe.decode(ids, skipSpecialTokens: true)
                _ = bpe.decode((0..<Int32(min(bpe.vocabularySize, 64))).map { $0 })
            }
        }
        if let wordPiece = try? WordPieceTokenizer(json: Data(bytes)) {
            _ = wordPiece.encode(text)
            _ = wordPiece.encode(text, maxLength: 4)
        }
    }

    /// A chat-render messages file (a JSON array of messages), rendered with both templates.
    static func chat(_ bytes: UnsafeRawBufferPointer) {
        guard let json = try? JSONValue.parse(bytes), let items = json.arrayValue,
              let messages = try? items.map({ try ChatMessage(json: $0, context: "message") }) else { return }
        for template in [ChatTemplate.qwen3, .chatML] {
            for thinking in [nil, false] {
                _ = try? template.renderWithSpans(messages, addGenerationPrompt: true, enableThinking: thinking)
            }
        }
    }

    /// config.json as the Qwen3 and BERT loaders decode it, generation_config.json, and the sizes
    /// derived from an accepted configuration.
    static func config(_ bytes: UnsafeRawBufferPointer) {
        let data = Data(bytes)
        if let qwen3 = try? JSONDecoder().decode(Qwen3Config.self, from: data) { _ = qwen3.parameterCount }
        if let bert = try? JSONDecoder().decode(BertConfig.self, from: data) { _ = bert.headDim }
        _ = try? JSONDecoder().decode(GenerationConfig.self, from: data)
    }

    /// JSON Lines: the conversation dataset and the `{"text": ...}` reader of pretraining and embed.
    static func jsonLines(_ bytes: UnsafeRawBufferPointer) {
        withTemporaryFile(bytes, name: "data.jsonl") { url in
            _ = try? ConversationDataset.load(url: url, skipBadLines: true)
            _ = try? ConversationDataset.load(url: url)
            _ = try? readJSONLines(url)
        }
    }

    /// Parsers that only read a path get the bytes through one file per process, rewritten per input.
    /// A knowledge base as the T-REx JSON file and as JSON Lines (the file's extension chooses).
    static func knowledgeBase(_ bytes: UnsafeRawBufferPointer) {
        for name in ["kb.json", "kb.jsonl"] {
            withTemporaryFile(bytes, name: name) { url in
                guard let kb = try? KnowledgeBase.load(url) else { return }
                _ = kb.facts.map(MemoryKeys.keyText)
            }
        }
    }

    /// A torch.save archive (the reference's knowledge_cache.pt and keys.pt), its CRCs unchecked so
    /// that mutations reach the pickle; every tensor read as both conversions read it.
    static func torch(_ bytes: UnsafeRawBufferPointer) {
        guard let archive = try? TorchArchive(bytes: [UInt8](bytes), name: "fuzz.pt", verifyingChecksums: false) else { return }
        for key in archive.keys {
            guard let tensor = try? archive.tensor(key) else { continue }
            _ = try? tensor.float32()
            _ = try? tensor.int64s()
        }
    }

    static func withTemporaryFile(_ bytes: UnsafeRawBufferPointer, name: String, _ body: (URL) -> Void) {
        let url = scratchDirectory.appendingPathComponent(name)
        // Plain write(2): FileManager's atomic replace costs milliseconds per input.
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0, bytes.isEmpty || write(fd, bytes.baseAddress, bytes.count) == bytes.count else {
            fatalError("fuzz harness: cannot write \(url.path)")
        }
        close(fd)
        body(url)
    }

    static let scratchDirectory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("explicitlm-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()
}
