import Foundation
import JSON

/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        case system, user, assistant, tool
    }

    /// A function call made by an assistant turn.
    public struct ToolCall: Sendable, Equatable {
        public var name: String
        /// A JSON string is written as is; any other value as `tojson` writes it.
        public var arguments: JSONValue
        public init(name: String, arguments: JSONValue) {
            self.name = name
            self.arguments = arguments
        }
    }

    public var role: Role
    public var content: String
    /// The assistant's reasoning; when nil, a `<think>…</think>` block in `content` plays its part.
    public var reasoningContent: String?
    public var toolCalls: [ToolCall]

    public init(role: Role, content: String, reasoningContent: String? = nil, toolCalls: [ToolCall] = []) {
        self.role = role
        self.content = content
        self.reasoningContent = reasoningContent
        self.toolCalls = toolCalls
    }

    /// Reads a message object: "role", "content" (required strings), optional "reasoning_content" and
    /// "tool_calls" ([{"function": {"name", "arguments"}}] or [{"name", "arguments"}]). `context` prefixes errors.
    public init(json: JSONValue, context: String) throws {
        guard json.objectValue != nil else { throw TokenizerError("\(context): a message must be a JSON object") }
        guard let roleValue = json["role"] else { throw TokenizerError("\(context): missing field \"role\"") }
        guard let roleName = roleValue.stringValue else { throw TokenizerError("\(context): \"role\" must be a string") }
        guard let role = Role(rawValue: roleName) else {
            throw TokenizerError("\(context): unknown role \"\(roleName)\" (expected system, user, assistant or tool)")
        }
        guard let contentValue = json["content"] else { throw TokenizerError("\(context): missing field \"content\"") }
        guard let content = contentValue.stringValue else { throw TokenizerError("\(context): \"content\" must be a string") }
        var reasoning: String? = nil
        if let r = json["reasoning_content"], !r.isNull {
            guard let s = r.stringValue else { throw TokenizerError("\(context): \"reasoning_content\" must be a string or null") }
            reasoning = s
        }
        var calls: [ToolCall] = []
        if let list = json["tool_calls"], !list.isNull {
            guard let items = list.arrayValue else { throw TokenizerError("\(context): \"tool_calls\" must be an array") }
            for (i, item) in items.enumerated() {
                let call = item["function"] ?? item
                guard let name = call["name"]?.stringValue else {
                    throw TokenizerError("\(context): tool_calls[\(i)] needs a string \"name\"")
                }
                calls.append(ToolCall(name: name, arguments: call["arguments"] ?? .object([])))
            }
        }
        self.init(role: role, content: content, reasoningContent: reasoning, toolCalls: calls)
    }

    /// Reads a JSON file holding an array of message objects.
    public static func loadArray(url: URL) throws -> [ChatMessage] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TokenizerError("\(url.path): cannot read the file")
        }
        let json: JSONValue
        do { json = try JSONValue.parse([UInt8](data)) } catch { throw TokenizerError("\(url.path): \(error)") }
        guard let items = json.arrayValue else { throw TokenizerError("\(url.path): expected a JSON array of messages") }
        return try items.enumerated().map { try ChatMessage(json: $1, context: "\(url.path): message \($0)") }
    }
}
