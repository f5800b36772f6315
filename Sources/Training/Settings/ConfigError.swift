/// A setting, a settings file or a run's inputs that cannot be used; the message names the file,
/// key and value concerned and what is allowed.
public struct ConfigError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
