import Foundation
import JSON
import Tokenizers
import XCTest

final class ChatTemplateTests: XCTestCase {
    struct Case {
        let messages: [ChatMessage]
        let tools: [JSONValue]
        let addGenerationPrompt: Bool
        let enableThinking: Bool?
        let text: String
        let ids: [Int32]
    }

    /// The cases made by scripts/make_chat_goldens.py with transformers' apply_chat_template.
    static func cases() throws -> [Case] {
        let json = try TestData.fixture("chat_goldens.json")
        return try json.arrayValue!.enumerated().map { i, c in
            Case(messages: try c["messages"]!.arrayValue!.map { try ChatMessage(json: $0, context: "case \(i)") },
                 tools: c["tools"]?.arrayValue ?? [],
                 addGenerationPrompt: c["add_generation_prompt"]!.boolValue!,
                 enableThinking: c["enable_thinking"]?.boolValue,
                 text: c["text"]!.stringValue!,
                 ids: c["ids"]!.arrayValue!.map { Int32($0.intValue!) })
        }
    }

    /// Byte-identical with transformers on every golden case (compared as UTF-8 bytes).
    func testQwen3RenderingMatchesTransformers() throws {
        let cases = try ChatTemplateTests.cases()
        XCTAssertGreaterThan(cases.count, 100)
        for (i, c) in cases.enumerated() {
            let text = try ChatTemplate.qwen3.render(c.messages, tools: c.tools, addGenerationPrompt: c.addGenerationPrompt,
                                                     enableThinking: c.enableThinking)
            XCTAssertEqual(Array(text.utf8), Array(c.text.utf8), "case \(i):\n\(text.debugDescription)\nwant\n\(c.text.debugDescription)")
        }
    }

    /// Rendered text through the real tokenizer gives transformers' ids.
    func testRenderedIdsMatchTransformers() throws {
        let tok = try TestData.qwen3()
        XCTAssertEqual(try tok.chatTemplate(), .qwen3)
        for (i, c) in try ChatTemplateTests.cases().enumerated() {
            let text = try tok.renderChat(c.messages, tools: c.tools, addGenerationPrompt: c.addGenerationPrompt,
                                          enableThinking: c.enableThinking)
            XCTAssertEqual(tok.encode(text), c.ids, "case \(i)")
        }
    }

    func testEnableThinkingFalseGivesEmptyThinkBlock() throws {
        let m = [ChatMessage(role: .user, content: "Hi")]
        XCTAssertEqual(try ChatTemplate.qwen3.render(m, addGenerationPrompt: true, enableThinking: false),
                       "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")
        XCTAssertEqual(try ChatTemplate.qwen3.render(m, addGenerationPrompt: true, enableThinking: true),
                       "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    func testOtherTemplatesAreRefusedUnlessChatMLIsAsked() throws {
        XCTAssertThrowsError(try ChatTemplate.detect(source: "{{ messages }}")) { error in
            XCTAssertTrue("\(error)".contains("not Qwen3's"), "\(error)")
        }
        XCTAssertThrowsError(try ChatTemplate.detect(source: nil))
        XCTAssertEqual(try ChatTemplate.detect(source: "{{ messages }}", allowChatML: true), .chatML)
        let m = [ChatMessage(role: .system, content: "S"), ChatMessage(role: .user, content: "U"), ChatMessage(role: .assistant, content: "<think>x</think>A")]
        XCTAssertEqual(try ChatTemplate.chatML.render(m, addGenerationPrompt: true),
                       "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n<think>x</think>A<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertThrowsError(try ChatTemplate.qwen3.render([]))
        let source = try TestData.qwen3().chatTemplateSource
        XCTAssertEqual(try ChatTemplate.detect(source: source), .qwen3)
    }

    func testMessagesFileErrorsNameTheMessage() throws {
        XCTAssertThrowsError(try ChatMessage(json: try JSONValue.parse(#"{"role": "robot", "content": "x"}"#), context: "f.json: message 2")) { error in
            XCTAssertEqual("\(error)", "f.json: message 2: unknown role \"robot\" (expected system, user, assistant or tool)")
        }
        XCTAssertThrowsError(try ChatMessage(json: try JSONValue.parse(#"{"role": "user"}"#), context: "m")) { error in
            XCTAssertTrue("\(error)".contains("missing field \"content\""))
        }
    }
}
