/// What the parser accepts beyond RFC 8259's grammar.
public struct JSONParseOptions: Sendable {
    /// What to do when an object names the same key twice (RFC 8259 leaves it open).
    public enum DuplicateKeys: Sendable {
        /// An error naming the key: for formats that are a contract (safetensors headers, index files).
        case reject
        /// The last value wins, at the position of the first occurrence. This is what the reference
        /// loaders do: Python's `json` (tokenizer_config.json, chat data) and the `tokenizers`
        /// library for tokenizer.json (its vocab, top-level and pre-tokenizer keys all keep the last).
        case keepLast
    }

    public var duplicateKeys: DuplicateKeys
    /// Nesting deeper than this is an error; the parser recurses, so the limit guards the stack.
    public var maxDepth: Int

    public init(duplicateKeys: DuplicateKeys = .keepLast, maxDepth: Int = 512) {
        self.duplicateKeys = duplicateKeys
        self.maxDepth = maxDepth
    }

    /// Duplicate keys rejected, at most 64 levels: nothing deeper is valid in a safetensors header.
    public static let strict = JSONParseOptions(duplicateKeys: .reject, maxDepth: 64)
    /// As Hugging Face's loaders read tokenizer and config files.
    public static let huggingFace = JSONParseOptions()
}
