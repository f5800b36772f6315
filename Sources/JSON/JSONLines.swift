import Foundation

/// The objects of a JSON Lines file (`{"text": ...}` corpora, conversation data), one per line,
/// blank lines skipped, each with its 1-based line number. Errors name file:line and the problem.
public func readJSONLines(_ url: URL) throws -> [(line: Int, object: JSONValue)] {
    let content: String
    do { content = try String(contentsOf: url, encoding: .utf8) } catch {
        throw JSONFileError("\(url.path): cannot read as UTF-8 text: \(error.localizedDescription)")
    }
    var objects: [(line: Int, object: JSONValue)] = []
    // "\r\n" is one Character in Swift, so CRLF files need it named as a separator of its own.
    for (index, text) in content.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
        if text.allSatisfy(\.isWhitespace) { continue }
        let line = index + 1
        let value: JSONValue
        do { value = try JSONValue.parse(Array(text.utf8)) } catch let e as JSONParseError {
            throw JSONFileError("\(url.path):\(line): not valid JSON at column \(e.column): \(e.reason)")
        }
        guard value.objectValue != nil else { throw JSONFileError("\(url.path):\(line): expected a JSON object") }
        objects.append((line, value))
    }
    return objects
}
