import Foundation

/// A tiny Qwen3 model directory for tests: the committed tied-mha-f32 checkpoint (hidden 48, two
/// layers, vocabulary 320, 512 positions) with a byte-level tokenizer.
public enum TinyModel {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// A directory with a byte-level BPE tokenizer.json: the 256 byte tokens, no merges,
    /// `<|endoftext|>` as id 256 and `<|im_end|>` with the id literal `addedId` (written as is).
    public static func tokenizer(in work: URL, name: String, addedId: String = "257") throws -> URL {
        let dir = work.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let vocab = (0..<256).map { b in "\(quoted(String(Character(Unicode.Scalar(byteScalar(b))!)))): \(b)" }.joined(separator: ", ")
        let json = """
            {"added_tokens": [{"id": 256, "content": "<|endoftext|>", "special": true},
                              {"id": \(addedId), "content": "<|im_end|>", "special": true}],
             "normalizer": null,
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
             "decoder": {"type": "ByteLevel"},
             "model": {"type": "BPE", "vocab": {\(vocab)}, "merges": []}}
            """
        try json.write(to: dir.appendingPathComponent("tokenizer.json"), atomically: true, encoding: .utf8)
        return dir
    }

    /// A copy of the tied-mha-f32 checkpoint (vocabulary 320, 512 positions) with the tiny tokenizer,
    /// each `config` key set to the JSON literal given.
    public static func directory(in work: URL, name: String, config: [String: String] = [:]) throws -> URL {
        let dir = try tokenizer(in: work, name: name)
        let source = fixtures.appendingPathComponent("Qwen3Tests/Fixtures/tied-mha-f32")
        for file in ["model.safetensors", "generation_config.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as! [String: Any]
        for key in config.keys { object.removeValue(forKey: key) }
        var text = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        let replaced = config.sorted { $0.key < $1.key }.map { "\(quoted($0.key)): \($0.value), " }.joined()
        text.insert(contentsOf: replaced, at: text.index(after: text.startIndex))
        try text.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        return dir
    }

    public static func quoted(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: s, options: [.fragmentsAllowed, .withoutEscapingSlashes]), as: UTF8.self)
    }

    /// The GPT-2 byte-to-character table.
    public static func byteScalar(_ b: Int) -> UInt32 {
        func printable(_ x: Int) -> Bool { (0x21...0x7E).contains(x) || (0xA1...0xAC).contains(x) || (0xAE...0xFF).contains(x) }
        if printable(b) { return UInt32(b) }
        return 256 + UInt32((0..<b).filter { !printable($0) }.count)
    }

    /// A tokenizer.json in `dir/name` of the 256 byte tokens (GPT-2's byte-to-character table) and
    /// the added tokens named in `added` (ids from 256 on).
    public static func byteTokenizer(in dir: URL, name: String = "tokenizer", added: [String] = ["<|endoftext|>"]) throws -> URL {
        let folder = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // bytes_to_unicode: printable Latin-1 bytes stand for themselves, the rest for 256, 257, ...
        let kept = Set(Array(33...126) + Array(161...172) + Array(174...255))
        var next = 256
        var vocab: [String: Int] = [:]
        for byte in 0..<256 {
            let scalar = kept.contains(byte) ? byte : next
            if !kept.contains(byte) { next += 1 }
            vocab[String(Character(Unicode.Scalar(UInt32(scalar))!))] = byte
        }
        let addedTokens = added.enumerated().map { ["id": 256 + $0.offset, "content": $0.element, "special": true] as [String: Any] }
        let json: [String: Any] = [
            "added_tokens": addedTokens, "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true],
            "decoder": ["type": "ByteLevel"], "model": ["type": "BPE", "vocab": vocab, "merges": [String]()],
        ]
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: folder.appendingPathComponent("tokenizer.json"))
        return folder
    }
}
