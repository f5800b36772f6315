/// Where the text stops being JSON, and why. `offset` is 0-based in bytes; `line` and `column`
/// are 1-based, the column counted in bytes.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    public let offset: Int
    public let line: Int
    public let column: Int
    public let reason: String

    public init(offset: Int, line: Int, column: Int, reason: String) {
        self.offset = offset
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "line \(line), column \(column) (byte \(offset)): \(reason)" }
}
