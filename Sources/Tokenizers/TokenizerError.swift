/// A problem with a tokenizer, template or data file, naming the file and the key or line at fault.
public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
