import JSON

/// Qwen3's Jinja chat template (tokenizer_config.json) as code, statement for statement; the comments
/// quote the template lines each part reproduces.
enum Qwen3Renderer {
    static func render(_ messages: [ChatMessage], tools: [JSONValue], addGenerationPrompt: Bool,
                       enableThinking: Bool?) -> (text: String, assistantSpans: [Range<Int>]) {
        var out = RenderBuffer()
        let first = messages[0]
        // {%- if tools %} … system prompt with the tool signatures.
        if !tools.isEmpty {
            out.add("<|im_start|>system\n")
            if first.role == .system { out.add(first.content + "\n\n") }
            out.add("# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>")
            for tool in tools { out.add("\n" + tool.pythonJSON()) }
            out.add("\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n")
        } else if first.role == .system {
            out.add("<|im_start|>system\n" + first.content + "<|im_end|>\n")
        }

        // The last user message that is not a wrapped tool response ("multi_step_tool").
        var lastQueryIndex = messages.count - 1
        for index in stride(from: messages.count - 1, through: 0, by: -1) {
            let m = messages[index]
            if m.role == .user && !(Python.startswith(m.content, "<tool_response>") && Python.endswith(m.content, "</tool_response>")) {
                lastQueryIndex = index
                break
            }
        }

        for (i, m) in messages.enumerated() {
            let isLast = i == messages.count - 1
            switch m.role {
            case .user, .system:
                // {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
                if m.role == .system && i == 0 { continue }
                out.add("<|im_start|>" + m.role.rawValue + "\n" + m.content + "<|im_end|>\n")
            case .assistant:
                var content = m.content
                var reasoning = ""
                if let r = m.reasoningContent {
                    reasoning = r
                } else if Python.split(content, "</think>").count > 1 {
                    // content.split('</think>')[-1].lstrip('\n'), and the text before the first
                    // '</think>' after its last '<think>', trimmed of newlines.
                    let parts = Python.split(m.content, "</think>")
                    content = Python.lstrip(parts[parts.count - 1])
                    let before = Python.rstrip(parts[0])
                    let thinkParts = Python.split(before, "<think>")
                    reasoning = Python.lstrip(thinkParts[thinkParts.count - 1])
                }
                out.add("<|im_start|>assistant\n")
                out.beginAssistant()
                if i > lastQueryIndex && (isLast || !reasoning.isEmpty) {
                    out.add("<think>\n" + Python.strip(reasoning) + "\n</think>\n\n" + Python.lstrip(content))
                } else {
                    out.add(content)
                }
                for (k, call) in m.toolCalls.enumerated() {
                    // {%- if (loop.first and content) or (not loop.first) %}
                    if k > 0 || !content.isEmpty { out.add("\n") }
                    out.add("<tool_call>\n{\"name\": \"" + call.name + "\", \"arguments\": ")
                    if let s = call.arguments.stringValue { out.add(s) } else { out.add(call.arguments.pythonJSON()) }
                    out.add("}\n</tool_call>")
                }
                out.add("<|im_end|>")
                out.endAssistant()
                out.add("\n")
            case .tool:
                if i == 0 || messages[i - 1].role != .tool { out.add("<|im_start|>user") }
                out.add("\n<tool_response>\n" + m.content + "\n</tool_response>")
                if isLast || messages[i + 1].role != .tool { out.add("<|im_end|>\n") }
            }
        }
        if addGenerationPrompt {
            out.add("<|im_start|>assistant\n")
            // {%- if enable_thinking is defined and enable_thinking is false %}
            if enableThinking == false { out.add("<think>\n\n</think>\n\n") }
        }
        return (out.text, out.spans)
    }
}

/// Python's str methods as the template uses them, on code points (Swift's String methods compare
/// grapheme clusters, so "</think>" followed by a combining mark would not match there).
enum Python {
    static func split(_ s: String, _ separator: String) -> [String] {
        let b = Array(s.utf8), sep = Array(separator.utf8)
        var parts: [String] = []
        var start = 0, i = 0
        while i + sep.count <= b.count {
            if b[i] == sep[0] && Array(b[i..<(i + sep.count)]) == sep {
                parts.append(String(decoding: b[start..<i], as: UTF8.self))
                i += sep.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(String(decoding: b[start...], as: UTF8.self))
        return parts
    }

    static func startswith(_ s: String, _ prefix: String) -> Bool { s.utf8.starts(with: prefix.utf8) }

    static func endswith(_ s: String, _ suffix: String) -> Bool {
        s.utf8.count >= suffix.utf8.count && s.utf8.suffix(suffix.utf8.count).elementsEqual(suffix.utf8)
    }

    static func lstrip(_ s: String) -> String {
        String(s.unicodeScalars.drop(while: { $0 == "\n" }))
    }

    static func rstrip(_ s: String) -> String {
        var scalars = Substring(s).unicodeScalars
        while scalars.last == "\n" { scalars.removeLast() }
        return String(scalars)
    }

    static func strip(_ s: String) -> String { rstrip(lstrip(s)) }
}

import Foundation
