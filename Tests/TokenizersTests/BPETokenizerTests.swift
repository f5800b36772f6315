import Foundation
import JSON
import Tokenizers
import XCTest

final class BPETokenizerTests: XCTestCase {
    /// llama.cpp's tokenizer vectors for Qwen2 (same vocabulary and pattern as Qwen3): exact ids.
    func testLlamaCppVectors() throws {
        let tok = try TestData.qwen3()
        let dir = TestData.shared.appendingPathComponent("qwen2-vocab-tests")
        let inp = try String(contentsOf: dir.appendingPathComponent("ggml-vocab-qwen2.gguf.inp"), encoding: .utf8)
        let out = try String(contentsOf: dir.appendingPathComponent("ggml-vocab-qwen2.gguf.out"), encoding: .utf8)
        let texts = inp.components(separatedBy: "\n__ggml_vocab_test__\n")
        let expected = out.components(separatedBy: "\n")
        XCTAssertEqual(texts.count, 47)
        XCTAssertEqual(expected.count, texts.count)
        var failures = 0
        for (text, line) in zip(texts, expected) {
            let want = line.split(separator: " ").map { Int32($0)! }
            let got = tok.encode(text)
            if got != want {
                failures += 1
                XCTFail("\(text.debugDescription): got \(got), want \(want)")
            }
        }
        XCTAssertEqual(failures, 0)
    }

    /// The golden set through the hand-written split matcher: id for id, and decode gives NFC(text).
    func testGoldenSetFastSplitter() throws {
        let tok = try TestData.qwen3()
        XCTAssertTrue(tok.usesFastSplitter)
        try checkGoldens(tok)
    }

    /// The same golden set through the NSRegularExpression fallback.
    func testGoldenSetRegexSplitter() throws {
        _ = try TestData.qwen3()
        let tok = try BPETokenizer(url: TestData.qwen3Dir, forceRegex: true)
        XCTAssertFalse(tok.usesFastSplitter)
        try checkGoldens(tok)
    }

    private func checkGoldens(_ tok: BPETokenizer, file: StaticString = #filePath, line: UInt = #line) throws {
        let g = try TokenizerGoldens.load()
        XCTAssertGreaterThan(g.texts.count, 500)
        var failures = 0
        for i in g.texts.indices {
            let ids = tok.encode(g.texts[i])
            if ids != g.ids[i] {
                failures += 1
                if failures <= 10 { XCTFail("text \(i) \(g.texts[i].debugDescription): got \(ids), want \(g.ids[i])", file: file, line: line) }
            }
            let text = tok.decode(ids)
            XCTAssertEqual(text, g.decoded[i], "decode of text \(i)", file: file, line: line)
            // Compare scalars: Swift's String == is canonical equivalence and would hide a missing NFC.
            XCTAssertEqual(Array(text.unicodeScalars), Array(g.texts[i].precomposedStringWithCanonicalMapping.unicodeScalars),
                           "decode(encode(x)) != NFC(x) for text \(i)", file: file, line: line)
        }
        XCTAssertEqual(failures, 0, "\(failures) of \(g.texts.count) golden texts differ", file: file, line: line)
    }

    /// The same merges written in the legacy "a b" string form give the same ids.
    func testLegacyMergeStrings() throws {
        _ = try TestData.qwen3()
        let data = FileManager.default.contents(atPath: TestData.qwen3Dir.appendingPathComponent("tokenizer.json").path)!
        guard case var .object(top) = try JSONValue.parse([UInt8](data)) else { return XCTFail("not an object") }
        let mi = top.firstIndex { $0.0 == "model" }!
        guard case var .object(model) = top[mi].1 else { return XCTFail("model") }
        let gi = model.firstIndex { $0.0 == "merges" }!
        let pairs = model[gi].1.arrayValue!
        model[gi].1 = .array(pairs.map { .string("\($0.arrayValue![0].stringValue!) \($0.arrayValue![1].stringValue!)") })
        top[mi].1 = .object(model)
        let legacy = try BPETokenizer(json: .object(top))
        let g = try TokenizerGoldens.load()
        for i in stride(from: 0, to: g.texts.count, by: 3) {
            XCTAssertEqual(legacy.encode(g.texts[i]), g.ids[i], "text \(i)")
        }
    }

    func testSpecialIdsAndSkipping() throws {
        let tok = try TestData.qwen3()
        XCTAssertEqual(tok.vocabularySize, 151669)  // 151,643 BPE tokens and 26 added tokens
        XCTAssertEqual(tok.eosTokenId, 151645)  // <|im_end|>
        XCTAssertEqual(tok.padTokenId, 151643)  // <|endoftext|>
        XCTAssertEqual(tok.id(of: "<think>"), 151667)
        XCTAssertEqual(tok.id(of: "Ġhello"), tok.encode(" hello").first)
        let ids = tok.encode("<|im_start|>user\nHi <think>x</think><|im_end|>")
        XCTAssertEqual(ids.first, 151644)
        XCTAssertEqual(ids.last, 151645)
        XCTAssertEqual(tok.decode(ids, skipSpecialTokens: true), "user\nHi <think>x</think>")  // <think> is not special
        XCTAssertEqual(tok.decode(ids), "<|im_start|>user\nHi <think>x</think><|im_end|>")
        XCTAssertEqual(tok.encode(""), [])
    }

    /// Encoding from several threads at once (sharing the word cache) gives the same ids.
    func testConcurrentEncodingIsConsistent() throws {
        let tok = try TestData.qwen3()
        let g = try TokenizerGoldens.load()
        let results = UnsafeMutableBufferPointer<[Int32]>.allocate(capacity: g.texts.count * 4)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        let box = UncheckedBox(results)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in g.texts.indices { box.value[worker * g.texts.count + i] = tok.encode(g.texts[i]) }
        }
        for worker in 0..<4 {
            for i in g.texts.indices { XCTAssertEqual(results[worker * g.texts.count + i], g.ids[i], "worker \(worker) text \(i)") }
        }
        XCTAssertEqual(tok.stopTokenIds, [151645, 151643])
    }

    /// Streaming: the chunks concatenate to decode(ids), and no chunk holds a cut character.
    func testStreamingDecoderNeverSplitsCharacters() throws {
        let tok = try TestData.qwen3()
        let g = try TokenizerGoldens.load()
        var splitCharacters = 0
        for (i, ids) in g.ids.enumerated() {
            var stream = tok.makeStreamingDecoder()
            var text = ""
            for id in ids {
                let chunk = stream.push(id)
                if chunk.unicodeScalars.contains("\u{FFFD}") { splitCharacters += 1 }
                text += chunk
            }
            text += stream.finish()
            XCTAssertEqual(text, g.decoded[i], "text \(i)")
        }
        XCTAssertEqual(splitCharacters, 0)
        // "🫠" is three byte-level tokens: nothing shows until the last one.
        let ids = tok.encode("🫠")
        XCTAssertEqual(ids.count, 3)
        var stream = tok.makeStreamingDecoder()
        XCTAssertEqual(stream.push(ids[0]), "")
        XCTAssertEqual(stream.push(ids[1]), "")
        XCTAssertEqual(stream.push(ids[2]), "🫠")
        XCTAssertEqual(stream.finish(), "")
        // A character cut off at the end becomes U+FFFD on finish, as decode does.
        var cut = tok.makeStreamingDecoder()
        XCTAssertEqual(cut.push(ids[0]) + cut.push(ids[1]) + cut.finish(), tok.decode(Array(ids.prefix(2))))
    }

    func testStreamingSkipsSpecialTokens() throws {
        let tok = try TestData.qwen3()
        var stream = tok.makeStreamingDecoder(skipSpecialTokens: true)
        var text = ""
        for id in tok.encode("Hi!<|im_end|>") { text += stream.push(id) }
        XCTAssertEqual(text + stream.finish(), "Hi!")
    }

    /// Malformed files are rejected with the file and key named.
    func testBadFileErrorsNameTheKey() throws {
        let json = try JSONValue.parse(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Whitespace"}}"#)
        XCTAssertThrowsError(try BPETokenizer(json: json, path: "x/tokenizer.json")) { error in
            XCTAssertTrue("\(error)".contains("x/tokenizer.json: pre_tokenizer"), "\(error)")
        }
        XCTAssertThrowsError(try BPETokenizer(url: URL(fileURLWithPath: "/nonexistent/tokenizer.json"))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/tokenizer.json"), "\(error)")
        }
        XCTAssertThrowsError(try JSONValue.parse("{\n\"a\": [1,\n }")) { error in
            XCTAssertTrue("\(error)".contains("line 3"), "\(error)")
        }
    }

    /// A tiny hand-made vocabulary: merges by rank, leftmost first on ties; both merge forms.
    func testTinyMergesByRank() throws {
        var vocab: [(String, JSONValue)] = []
        for b in 0..<256 {
            let s = String(Character(Unicode.Scalar(ByteLevelTable.scalar(b))!))
            vocab.append((s, .number(String(b))))
        }
        vocab += [("aa", .number("256")), ("ab", .number("257")), ("aab", .number("258")), ("ĠĠ", .number("259"))]
        for merges: JSONValue in [
            .array([.array([.string("a"), .string("a")]), .array([.string("a"), .string("b")]), .array([.string("aa"), .string("b")]), .array([.string("Ġ"), .string("Ġ")])]),
            .array([.string("a a"), .string("a b"), .string("aa b"), .string("Ġ Ġ")]),
        ] {
            let json = JSONValue.object([
                ("pre_tokenizer", .object([("type", .string("Sequence")), ("pretokenizers", .array([
                    .object([("type", .string("Split")), ("pattern", .object([("Regex", .string(#"\s+|\S+"#))])), ("behavior", .string("Isolated"))]),
                    .object([("type", .string("ByteLevel")), ("use_regex", .bool(false))]),
                ]))])),
                ("model", .object([("type", .string("BPE")), ("vocab", .object(vocab)), ("merges", merges)])),
            ])
            let tok = try BPETokenizer(json: json)
            XCTAssertFalse(tok.usesFastSplitter)
            XCTAssertEqual(tok.encode("aaab"), [256, 257])  // "a a" (rank 0) at the left first, then "a b"
            XCTAssertEqual(tok.encode("aab"), [258])
            XCTAssertEqual(tok.encode("   "), [259, 32])  // byte 32 is id 32 here
        }
    }
}

/// The GPT-2 byte-to-character table, written out independently of the module's for the tiny test.
enum ByteLevelTable {
    static func scalar(_ b: Int) -> UInt32 {
        if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) { return UInt32(b) }
        var n: UInt32 = 0
        for x in 0..<b where !((0x21...0x7E).contains(x) || (0xA1...0xAC).contains(x) || (0xAE...0xFF).contains(x)) { n += 1 }
        return 256 + n
    }
}

/// Hands a buffer to worker threads that write disjoint elements.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
