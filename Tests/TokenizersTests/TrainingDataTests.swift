import Foundation
import Tokenizers
import XCTest

final class TrainingDataTests: XCTestCase {
    /// The mask covers each assistant turn from the token after "<|im_start|>assistant\n" through
    /// "<|im_end|>", and nothing else; the masked tokens decode to exactly the assistant spans.
    func testAssistantMaskCoversEveryAssistantTurn() throws {
        let tok = try TestData.qwen3()
        let messages = [
            ChatMessage(role: .system, content: "Be brief."),
            ChatMessage(role: .user, content: "Capital of France?"),
            ChatMessage(role: .assistant, content: "Paris."),
            ChatMessage(role: .user, content: "And Japan? 日本"),
            ChatMessage(role: .assistant, content: "Tokyo (東京)."),
        ]
        let seq = try tok.trainingSequence(messages)
        let text = try ChatTemplate.qwen3.render(messages)
        XCTAssertEqual(seq.ids, tok.encode(text))
        XCTAssertEqual(seq.lossMask.count, seq.ids.count)
        // Group masked tokens into runs and decode each run.
        var runs: [String] = []
        var current: [Int32] = []
        for (id, m) in zip(seq.ids, seq.lossMask) {
            if m { current.append(id) } else if !current.isEmpty { runs.append(tok.decode(current)); current = [] }
        }
        if !current.isEmpty { runs.append(tok.decode(current)) }
        XCTAssertEqual(runs, ["Paris.<|im_end|>", "<think>\n\n</think>\n\nTokyo (東京).<|im_end|>"])
        // Every masked run ends with <|im_end|>; the token before each run is the "\n" after "assistant".
        let imEnd = tok.id(of: "<|im_end|>")!
        for i in seq.ids.indices where seq.lossMask[i] && (i + 1 == seq.ids.count || !seq.lossMask[i + 1]) {
            XCTAssertEqual(seq.ids[i], imEnd)
        }
    }

    /// Truncation cuts ids and mask together; a cut that leaves no answer token is an error.
    func testTruncationKeepsTheMaskConsistent() throws {
        let tok = try TestData.qwen3()
        let messages = [ChatMessage(role: .user, content: "Count to three."), ChatMessage(role: .assistant, content: "One, two, three.")]
        let full = try tok.trainingSequence(messages)
        let firstTarget = full.lossMask.firstIndex(of: true)!
        let cut = try tok.trainingSequence(messages, maxLength: firstTarget + 2)
        XCTAssertEqual(cut.ids, Array(full.ids.prefix(firstTarget + 2)))
        XCTAssertEqual(cut.lossMask, Array(full.lossMask.prefix(firstTarget + 2)))
        XCTAssertEqual(cut.trainableCount, 2)
        XCTAssertThrowsError(try tok.trainingSequence(messages, maxLength: firstTarget)) { error in
            XCTAssertTrue("\(error)".contains("no assistant token"), "\(error)")
        }
        XCTAssertThrowsError(try tok.trainingSequence([ChatMessage(role: .user, content: "x")]))
    }

    /// Offsets are UTF-8 ends of each token; the mask rule on hand-made offsets.
    func testMaskRuleOnOffsets() throws {
        let tok = try TestData.qwen3()
        let text = "ab 日本<|im_end|>x"
        let (ids, ends) = tok.encodeWithOffsets(text)
        XCTAssertEqual(ids, tok.encode(text))
        XCTAssertEqual(ends.last, text.utf8.count)
        XCTAssertEqual(ends, ends.sorted())
        XCTAssertEqual(BPETokenizer.assistantMask(tokenEnds: [2, 5, 9, 12], spans: [5..<9]), [false, false, true, false])
        XCTAssertEqual(BPETokenizer.assistantMask(tokenEnds: [2, 6, 9, 12], spans: [5..<9, 11..<12]), [false, true, true, true])
    }

    /// Good lines load; each kind of bad line is reported as file:line with its reason.
    func testConversationFileReportsBadLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("conv-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("data.jsonl")
        var bytes = [UInt8]()
        let lines = [
            #"{"conversations": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}], "fact_uuid": "f1"}"#,
            #"{"conversations": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}"#,
            #"{"conversations": [{"role": "user", "content": "Q"}]"#,
            #"{"conversations": [{"role": "user", "content": "Q"}]}"#,
            #"{"dialogue": []}"#,
            #"{"conversations": [{"role": "bot", "content": "Q"}, {"role": "assistant", "content": "A"}]}"#,
            #"{"conversations": [{"role": "user"}, {"role": "assistant", "content": "A"}]}"#,
            "",
        ]
        for l in lines { bytes += Array(l.utf8) + [0x0A] }
        bytes += Array(#"{"conversations": [{"role": "user", "content": "Q"#.utf8) + [0xFF, 0xFE] + Array(#""}]}"#.utf8) + [0x0A]
        try Data(bytes).write(to: file)

        XCTAssertThrowsError(try ConversationDataset.load(url: file)) { error in
            XCTAssertTrue("\(error)".contains("6 bad line(s)"), "\(error)")
        }
        let data = try ConversationDataset.load(url: file, skipBadLines: true)
        XCTAssertEqual(data.conversations.count, 2)
        XCTAssertEqual(data.conversations[0].factUUID, "f1")
        XCTAssertEqual(data.conversations[0].messages, [ChatMessage(role: .user, content: "Q"), ChatMessage(role: .assistant, content: "A")])
        XCTAssertEqual(data.conversations[1].line, 2)
        let p = data.problems
        XCTAssertEqual(p.count, 6)
        let expected = [(3, "invalid JSON"), (4, "no assistant turn"), (5, "missing field \"conversations\""),
                        (6, "unknown role \"bot\""), (7, "missing field \"content\""), (9, "invalid UTF-8")]
        for (problem, (line, reason)) in zip(p, expected) {
            XCTAssertTrue(problem.hasPrefix("\(file.path):\(line): "), problem)
            XCTAssertTrue(problem.contains(reason), problem)
        }
        // Tokenized for training (needs the Qwen3 tokenizer).
        let tok = try TestData.qwen3()
        let sequences = try data.trainingSequences(tokenizer: tok)
        XCTAssertEqual(sequences[0].ids, tok.encode("<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nA<|im_end|>\n"))
        XCTAssertThrowsError(try data.trainingSequences(tokenizer: tok, maxLength: 3)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(file.path):1: no assistant token"), "\(error)")
        }
    }
}
