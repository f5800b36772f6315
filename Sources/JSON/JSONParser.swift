/// A recursive-descent parser over raw bytes: JSONSerialization takes seconds on the 11 MB Qwen3
/// tokenizer.json on Linux (and keeps neither key order nor number text); this takes a fraction of that.
struct JSONParser {
    let buf: UnsafeBufferPointer<UInt8>
    let options: JSONParseOptions
    var pos = 0
    private var scratch: [UInt8] = []

    init(_ buf: UnsafeBufferPointer<UInt8>, options: JSONParseOptions) {
        self.buf = buf
        self.options = options
        scratch.reserveCapacity(64)
    }

    /// The error at `pos`; line and column are counted only now, as errors are rare.
    func error(_ reason: String) -> JSONParseError {
        var line = 1, col = 1
        for i in 0..<min(pos, buf.count) {
            if buf[i] == 0x0A { line += 1; col = 1 } else { col += 1 }
        }
        return JSONParseError(offset: pos, line: line, column: col, reason: reason)
    }

    mutating func skipSpace() {
        while pos < buf.count {
            let c = buf[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { break }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < options.maxDepth else { throw error("nesting deeper than \(options.maxDepth)") }
        guard pos < buf.count else { throw error("unexpected end of input") }
        switch buf[pos] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character '\(Character(Unicode.Scalar(buf[pos])))'")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        pos += 1
        var pairs: [(String, JSONValue)] = []
        var index = JSONKeyIndex()  // built once the object is too large for a linear search
        skipSpace()
        if pos < buf.count && buf[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
        while true {
            skipSpace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyStart = pos
            let key = try parseString()
            var existing: Int?
            var h: UInt64 = 0
            if pairs.count < 16 {
                existing = pairs.firstIndex { JSONKeyIndex.same($0.0, key) }
            } else {
                if index.isEmpty { index.build(pairs) }
                h = JSONKeyIndex.hash(key)
                existing = index.find(key, hash: h, in: pairs)
            }
            if existing != nil, options.duplicateKeys == .reject {
                pos = keyStart
                throw error("duplicate key \"\(key)\"")
            }
            skipSpace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
            pos += 1
            skipSpace()
            let value = try parseValue(depth: depth + 1)
            if let existing {
                pairs[existing].1 = value
            } else {
                if !index.isEmpty { index.append(hash: h) }
                pairs.append((key, value))
            }
            skipSpace()
            guard pos < buf.count else { throw error("unexpected end of input in an object") }
            if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if buf[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
            throw error("expected ',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        pos += 1
        var items: [JSONValue] = []
        skipSpace()
        if pos < buf.count && buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try parseValue(depth: depth + 1))
            skipSpace()
            guard pos < buf.count else { throw error("unexpected end of input in an array") }
            if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw error("expected ',' or ']'")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= buf.count else { throw error("invalid literal") }
        for i in 0..<n where buf[pos + i] != word.utf8Start[i] { throw error("invalid literal") }
        pos += n
    }

    private mutating func digits() -> Int {
        let start = pos
        while pos < buf.count, buf[pos] >= 0x30, buf[pos] <= 0x39 { pos += 1 }
        return pos - start
    }

    /// The number's literal text, checked against the grammar (no leading zeros, no bare '.' or 'e').
    private mutating func parseNumber() throws(JSONParseError) -> String {
        let start = pos
        if buf[pos] == UInt8(ascii: "-") { pos += 1 }
        let intStart = pos
        let n = digits()
        guard n > 0 else { throw error("invalid number") }
        if n > 1, buf[intStart] == UInt8(ascii: "0") { pos = intStart; throw error("invalid number (leading zero)") }
        if pos < buf.count && buf[pos] == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw error("invalid number") }
        }
        if pos < buf.count && (buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E")) {
            pos += 1
            if pos < buf.count && (buf[pos] == UInt8(ascii: "+") || buf[pos] == UInt8(ascii: "-")) { pos += 1 }
            guard digits() > 0 else { throw error("invalid number") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
    }

    /// Parses a string at `pos` (which holds the opening quote). Invalid UTF-8 is an error, not
    /// replacement characters.
    mutating func parseString() throws(JSONParseError) -> String {
        pos += 1
        let start = pos
        // Fast path: no escapes, the string is a slice of the input.
        while pos < buf.count {
            let c = buf[pos]
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: buf[start..<pos])
                pos += 1
                guard let s = UTF8Validation.string(slice) else {
                    pos = start
                    throw error("invalid UTF-8 in a string")
                }
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("control character in a string") }
            pos += 1
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buf[start..<pos]))
        while pos < buf.count {
            let c = buf[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                guard let s = UTF8Validation.string(scratch) else {
                    pos = start
                    throw error("invalid UTF-8 in a string")
                }
                return s
            }
            if c < 0x20 { throw error("control character in a string") }
            if c != UInt8(ascii: "\\") { scratch.append(c); pos += 1; continue }
            pos += 1
            guard pos < buf.count else { break }
            let e = buf[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard pos + 1 < buf.count, buf[pos] == UInt8(ascii: "\\"), buf[pos + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in a \\u escape")
                    }
                    pos += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in a \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(code) {
                    throw error("unpaired surrogate in a \\u escape")
                }
                scratch.append(contentsOf: Array(String(Character(Unicode.Scalar(code)!)).utf8))
            default:
                pos -= 1
                throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))' in a string")
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= buf.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = buf[pos]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in a \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }
}
