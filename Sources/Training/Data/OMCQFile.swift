import Foundation
import JSON

/// The OMCQ items of a file, in file order, and the invalid ones as "place: reason".
///
/// Accepted shapes (method.md §7): one item object; a JSON array of items; `{"target": [items]}`
/// (alone, or as the array's or a line's element); JSON Lines, one item or `{"target": [...]}` per
/// line. A `.jsonl` file is read as JSON Lines; any other file as one JSON document, or as JSON Lines
/// when the whole does not parse but its first line does. Places are "file:line" (JSON Lines),
/// "file: [i]" (array elements) and "… target[j]" inside a target list.
public struct OMCQFile: Sendable {
    public let items: [OMCQItem]
    /// One "place: reason" per invalid item (or unreadable line), in file order.
    public let problems: [String]

    /// Throws only when the file cannot be read or is not JSON at all; bad items become `problems`.
    public static func load(_ url: URL) throws -> OMCQFile {
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
            throw OMCQError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        var reader = Reader()
        if url.pathExtension.lowercased() == "jsonl" {
            reader.readLines(bytes, path: url.path)
        } else {
            do {
                reader.readDocument(try JSONValue.parse(bytes), path: url.path)
            } catch let e as JSONParseError {
                guard Self.firstLineIsObject(bytes) else { throw OMCQError("\(url.path): not valid JSON at \(e)") }
                reader.readLines(bytes, path: url.path)
            }
        }
        return OMCQFile(items: reader.items, problems: reader.problems)
    }

    /// The SFT conversations, one JSON line each (see `OMCQItem.sftLine`).
    public var sftJSONL: String { items.map { $0.sftLine + "\n" }.joined() }

    private static func firstLineIsObject(_ bytes: [UInt8]) -> Bool {
        guard let first = lines(bytes).first,
              let value = try? JSONValue.parse(Array(first.bytes)) else { return false }
        return value.objectValue != nil
    }

    /// The non-blank lines with their 1-based numbers; "\r\n" ends a line too.
    static func lines(_ bytes: [UInt8]) -> [(number: Int, bytes: ArraySlice<UInt8>)] {
        var lines: [(number: Int, bytes: ArraySlice<UInt8>)] = []
        for (index, var line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if line.last == 0x0D { line = line.dropLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            lines.append((index + 1, line))
        }
        return lines
    }

    /// Collects items and problems while walking the shapes above.
    private struct Reader {
        var items: [OMCQItem] = []
        var problems: [String] = []

        mutating func readLines(_ bytes: [UInt8], path: String) {
            for (number, line) in OMCQFile.lines(bytes) {
                let place = "\(path):\(number)"
                do {
                    readItem(try JSONValue.parse(Array(line)), at: place)
                } catch let e as JSONParseError {
                    problems.append("\(place): not valid JSON at column \(e.column): \(e.reason)")
                } catch {
                    problems.append("\(place): \(error)")
                }
            }
        }

        mutating func readDocument(_ root: JSONValue, path: String) {
            switch root {
            case .array(let elements):
                for (i, element) in elements.enumerated() { readItem(element, at: "\(path): [\(i)]") }
            default:
                readItem(root, at: path)
            }
        }

        /// An item, or a `{"target": [...]}` holding items.
        mutating func readItem(_ value: JSONValue, at place: String) {
            guard let target = value["target"] else { return append(value, at: place) }
            guard let list = target.arrayValue else {
                return problems.append("\(place): \"target\" is \(target.typeName), expected an array of OMCQ items")
            }
            for (j, element) in list.enumerated() { append(element, at: "\(place) target[\(j)]") }
        }

        mutating func append(_ value: JSONValue, at place: String) {
            do { items.append(try OMCQItem(json: value)) } catch { problems.append("\(place): \(error)") }
        }
    }
}
