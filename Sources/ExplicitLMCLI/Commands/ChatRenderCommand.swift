import ArgumentParser
import Foundation
import JSON
import Tokenizers

/// `explicitlm chat-render`: a conversation in the checkpoint's chat format, printed exactly.
struct ChatRenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-render",
        abstract: "Render a JSON array of {\"role\", \"content\"} messages with the chat template and print it exactly.")

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(help: "JSON file: an array of {\"role\", \"content\"} objects (optional reasoning_content, tool_calls).")
    var messages: String

    @Flag(help: "End with the opening of an assistant turn.")
    var addGenerationPrompt = false

    @Option(help: "true or false; false adds the empty think block after the generation prompt.")
    var enableThinking: Bool?

    @Option(help: "JSON file: an array of tool (function) definitions for the system prompt.")
    var tools: String?

    @Flag(help: "Render plain ChatML when the checkpoint's template is not Qwen3's (instead of failing).")
    var chatml = false

    func run() throws {
        let tok = try tokenizerOptions.load()
        let list = try ChatMessage.loadArray(url: URL(fileURLWithPath: messages))
        var toolList: [JSONValue] = []
        if let tools {
            guard let data = FileManager.default.contents(atPath: tools) else { throw TokenizerError("\(tools): cannot read the file") }
            let json: JSONValue
            do { json = try JSONValue.parse([UInt8](data)) } catch { throw TokenizerError("\(tools): \(error)") }
            guard let items = json.arrayValue else { throw TokenizerError("\(tools): expected a JSON array of tool definitions") }
            toolList = items
        }
        let text = try tok.renderChat(list, tools: toolList, addGenerationPrompt: addGenerationPrompt,
                                      enableThinking: enableThinking, allowChatML: chatml)
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
