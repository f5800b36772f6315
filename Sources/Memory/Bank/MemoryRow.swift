import Foundation
import JSON
import Tokenizers

/// One bank row (method §2): the entry's tokens as the fusion reads them, the fact's metadata, its
/// grid cell (§3) and its key embedding.
public struct MemoryRow: Sendable, Equatable {
    /// The sentence's tokens followed by the appended object tokens, at most L_k, no pads.
    public var tokens: [Int32]
    /// How many of the last `tokens` are the appended object (tokenised as an answer, no leading space).
    public var objectLength: Int
    public var text: String
    public var uuid: String
    public var subject: String
    public var predicate: String
    public var object: String
    public var source: String
    /// The grid cell r·n + c of the row's key (method §3), −1 when the bank has no keys.
    public var cell: Int32
    /// The row's key embedding (K values, stored as F16), when the bank keeps them.
    public var key: [Float]?

    public init(tokens: [Int32], objectLength: Int = 0, text: String, uuid: String = "", subject: String = "", predicate: String = "",
                object: String = "", source: String = "", cell: Int32 = -1, key: [Float]? = nil) {
        self.tokens = tokens
        self.objectLength = objectLength
        self.text = text
        self.uuid = uuid
        self.subject = subject
        self.predicate = predicate
        self.object = object
        self.source = source
        self.cell = cell
        self.key = key
    }

    /// The appended object's tokens (the tail of `tokens`).
    public var objectTokens: ArraySlice<Int32> { tokens.suffix(objectLength) }

    /// A row's tokens from its sentence and object (method §2): the sentence tokenised without special
    /// tokens, then the object tokenised as an answer would be (no leading space), within `length`
    /// tokens. When both do not fit, the sentence is cut so that the object stays whole (the fusion
    /// copies the answer from it); an object longer than `length` is cut itself. `cut` says whether
    /// anything was cut.
    public static func entryTokens(sentence: String, object: String, tokenizer: BPETokenizer, length: Int)
        -> (tokens: [Int32], objectLength: Int, cut: Bool)
    {
        let words = tokenizer.encode(sentence)
        let answer = object.isEmpty ? [] : tokenizer.encode(object)
        if words.count + answer.count <= length { return (words + answer, answer.count, false) }
        let kept = max(0, length - answer.count)
        return (Array(words.prefix(kept)) + answer.prefix(length - kept), min(answer.count, length), true)
    }

    /// The row as JSON text for the edit log: every field but the key embedding.
    var logJSON: String {
        func number(_ n: Int) -> JSONValue { .number(String(n)) }
        return JSONValue.object([
            ("text", .string(text)), ("uuid", .string(uuid)), ("subject", .string(subject)), ("predicate", .string(predicate)),
            ("object", .string(object)), ("source", .string(source)), ("tokens", .array(tokens.map { number(Int($0)) })),
            ("object_length", number(objectLength)), ("cell", number(Int(cell))),
        ]).pythonJSON()
    }
}

/// Token ids packed for the store: unsigned LEB128, 7 bits a byte (ids below 16,384 take 2 bytes,
/// Qwen3's 151,669 ids at most 3), so a 16-token Qwen3 row takes about 33 bytes instead of 64.
enum PackedTokens {
    static func pack(_ tokens: [Int32]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(3 * tokens.count)
        for t in tokens {
            var v = UInt32(bitPattern: t)
            while v >= 0x80 {
                out.append(UInt8(v & 0x7f) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }
        return out
    }

    /// Unpacks into `out` (at most `limit` ids); nil when the bytes are not a valid packing.
    static func unpack(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Int32>, limit: Int) -> Int? {
        var count = 0, value: UInt32 = 0, shift: UInt32 = 0
        for byte in bytes {
            guard shift < 28 || (shift == 28 && byte < 0x08) else { return nil }  // more than 31 bits
            value |= UInt32(byte & 0x7f) << shift
            if byte & 0x80 != 0 {
                shift += 7
                continue
            }
            guard count < limit else { return nil }
            out[count] = Int32(bitPattern: value)
            count += 1
            value = 0
            shift = 0
        }
        return shift == 0 ? count : nil
    }

    static func unpack(_ bytes: [UInt8], limit: Int) -> [Int32]? {
        var out = [Int32](repeating: 0, count: limit)
        let count = bytes.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { unpack(raw, into: $0, limit: limit) } }
        return count.map { Array(out.prefix($0)) }
    }
}

/// The tokenizer a bank's rows are tokenised with, and the sha256 of its tokenizer.json, which the
/// bank records and checks when it is opened.
public struct BankTokenizer: Sendable {
    public let tokenizer: BPETokenizer
    /// sha256 of the tokenizer.json bytes, 64 lower-case hex digits.
    public let sha256: String
    public let padTokenId: Int32
    /// The tokenizer.json it was read from (a bank keeps a copy, so that it opens without the model).
    public let file: URL

    /// Loads `url`: a tokenizer.json file or the directory holding it (a model or a bank).
    public init(url: URL) throws {
        var file = url
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            file = url.appendingPathComponent("tokenizer.json")
        }
        self.file = file
        tokenizer = try BPETokenizer(url: url)
        sha256 = try Self.sha256(of: file)
        guard let pad = tokenizer.padTokenId else {
            throw MemoryBankError("\(file.path): the tokenizer has no pad token (<|endoftext|>) to right-pad bank rows with")
        }
        padTokenId = pad
    }

    /// sha256 of a file's bytes, 64 lower-case hex digits.
    public static func sha256(of file: URL) throws -> String {
        guard let data = FileManager.default.contents(atPath: file.path) else { throw MemoryBankError("\(file.path): cannot read the file") }
        return SHA256.hex([UInt8](data))
    }
}
