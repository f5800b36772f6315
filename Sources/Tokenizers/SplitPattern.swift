import Foundation

/// The pre-tokenizer's split regex (tokenizer.json `pre_tokenizer` Split, behaviour "Isolated"): cuts a
/// segment of text into pieces, each of which BPE encodes on its own. The Qwen2/Qwen3 pattern (GPT-4
/// style with single digits) runs through a hand-written matcher; any other pattern through
/// NSRegularExpression.
struct SplitPattern: @unchecked Sendable {  // NSRegularExpression is immutable and thread-safe.
    /// The pattern Qwen2, Qwen2.5 and Qwen3 ship.
    static let qwenPattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    let pattern: String
    private let regex: NSRegularExpression?

    /// - Parameter forceRegex: use NSRegularExpression even for the Qwen pattern (tests compare both).
    init(pattern: String, forceRegex: Bool = false) throws {
        self.pattern = pattern
        if pattern == SplitPattern.qwenPattern && !forceRegex {
            regex = nil
        } else {
            regex = try NSRegularExpression(pattern: pattern, options: [])
        }
    }

    var usesFastPath: Bool { regex == nil }

    /// Appends the end offsets (exclusive, in bytes) of the pieces of `text` to `ends`; the pieces cover
    /// the text without gaps.
    func split(_ text: UnsafeBufferPointer<UInt8>, string: () -> String, into ends: inout [Int]) {
        if let regex {
            splitWithRegex(regex, string(), into: &ends)
        } else {
            QwenSplitter(text).split(into: &ends)
        }
    }

    private func splitWithRegex(_ regex: NSRegularExpression, _ s: String, into ends: inout [Int]) {
        let ns = s as NSString
        var last = 0  // UTF-8 offset covered so far
        func utf8Offset(_ utf16: Int) -> Int {
            let idx = String.Index(utf16Offset: utf16, in: s)
            return s.utf8.distance(from: s.utf8.startIndex, to: idx)
        }
        for m in regex.matches(in: s, range: NSRange(location: 0, length: ns.length)) where m.range.length > 0 {
            let start = utf8Offset(m.range.location)
            let end = utf8Offset(m.range.location + m.range.length)
            if start > last { ends.append(start) }  // "Isolated": the gap is a piece too
            ends.append(end)
            last = end
        }
        let total = s.utf8.count
        if total > last { ends.append(total) }
    }
}

/// The Qwen pattern as code. Alternatives are tried in the regex's order at each position:
///  1 `(?i:'s|'t|'re|'ve|'m|'ll|'d)`   2 `[^\r\n\p{L}\p{N}]?\p{L}+`   3 `\p{N}`
///  4 ` ?[^\s\p{L}\p{N}]+[\r\n]*`      5 `\s*[\r\n]+`   6 `\s+(?!\S)`   7 `\s+`
struct QwenSplitter {
    static let letter: UInt8 = 1, number: UInt8 = 2, space: UInt8 = 4, newline: UInt8 = 8

    static let asciiClass: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 128)
        for c in UInt8(ascii: "a")...UInt8(ascii: "z") { t[Int(c)] = letter }
        for c in UInt8(ascii: "A")...UInt8(ascii: "Z") { t[Int(c)] = letter }
        for c in UInt8(ascii: "0")...UInt8(ascii: "9") { t[Int(c)] = number }
        for c in [0x09, 0x0B, 0x0C, 0x20] { t[c] = space }
        t[0x0A] = space | newline
        t[0x0D] = space | newline
        return t
    }()

    let text: UnsafeBufferPointer<UInt8>
    init(_ text: UnsafeBufferPointer<UInt8>) { self.text = text }

    /// Class bits and byte length of the character at `i` (valid UTF-8 assumed).
    @inline(__always)
    func peek(_ i: Int) -> (cls: UInt8, len: Int) {
        let b0 = text[i]
        if b0 < 0x80 { return (QwenSplitter.asciiClass[Int(b0)], 1) }
        var v: UInt32
        let len: Int
        if b0 < 0xE0 {
            len = 2; v = UInt32(b0 & 0x1F)
        } else if b0 < 0xF0 {
            len = 3; v = UInt32(b0 & 0x0F)
        } else {
            len = 4; v = UInt32(b0 & 0x07)
        }
        for k in 1..<len { v = v << 6 | UInt32(text[i + k] & 0x3F) }
        return (QwenSplitter.classify(v), len)
    }

    static func classify(_ v: UInt32) -> UInt8 {
        // Common blocks first: CJK ideographs, Hangul syllables and kana are letters.
        if (0x4E00...0x9FFF).contains(v) || (0xAC00...0xD7A3).contains(v) { return letter }
        guard let s = Unicode.Scalar(v) else { return 0 }
        let p = s.properties
        if p.isWhitespace { return space }
        let cls: UInt8
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: cls = letter
        case .decimalNumber, .letterNumber, .otherNumber: cls = number
        default: return 0
        }
        // Hugging Face's Oniguruma knows Unicode 16.0; characters added since (e.g. CJK Extension J in
        // 17.0, which Swift's tables have) are unassigned there, so neither letters nor numbers.
        guard let age = p.age, age.major < 16 || (age.major == 16 && age.minor == 0) else { return 0 }
        return cls
    }

    func split(into ends: inout [Int]) {
        var p = 0
        while p < text.count {
            p = matchEnd(at: p)
            ends.append(p)
        }
    }

    private func scanLetters(from i: Int) -> Int {
        var q = i
        while q < text.count {
            let (c, l) = peek(q)
            if c & QwenSplitter.letter == 0 { break }
            q += l
        }
        return q
    }

    /// Lower-cased ASCII byte at `i`, or 0; 'ſ' (U+017F) case-folds to 's' under (?i).
    @inline(__always)
    private func folded(_ i: Int) -> UInt8 {
        guard i < text.count else { return 0 }
        let b = text[i]
        if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") { return b | 0x20 }
        return b
    }

    func matchEnd(at p: Int) -> Int {
        let n = text.count
        let (c0, l0) = peek(p)
        let L = QwenSplitter.letter, N = QwenSplitter.number, S = QwenSplitter.space, NL = QwenSplitter.newline
        // 1: contractions.
        if text[p] == UInt8(ascii: "'") {
            let a = folded(p + 1)
            if a == UInt8(ascii: "s") || a == UInt8(ascii: "t") || a == UInt8(ascii: "m") || a == UInt8(ascii: "d") {
                return p + 2
            }
            if p + 2 < n && text[p + 1] == 0xC5 && text[p + 2] == 0xBF { return p + 3 }  // 'ſ
            let b = folded(p + 2)
            if (a == UInt8(ascii: "r") || a == UInt8(ascii: "v")) && b == UInt8(ascii: "e") { return p + 3 }
            if a == UInt8(ascii: "l") && b == UInt8(ascii: "l") { return p + 3 }
        }
        // 2: an optional non-letter/number/newline character, then letters.
        if c0 & L != 0 { return scanLetters(from: p) }
        if c0 & (NL | N) == 0 && p + l0 < n && peek(p + l0).cls & L != 0 {
            return scanLetters(from: p + l0)
        }
        // 3: one digit.
        if c0 & N != 0 { return p + l0 }
        // 4: an optional space, then symbols, then newlines.
        var q = p
        if text[p] == 0x20 { q = p + 1 }
        if q < n && peek(q).cls & (L | N | S) == 0 {
            while q < n {
                let (c, l) = peek(q)
                if c & (L | N | S) != 0 { break }
                q += l
            }
            while q < n && (text[q] == 0x0A || text[q] == 0x0D) { q += 1 }
            return q
        }
        // Only whitespace is left here. 5: whitespace through the run's last newline.
        var end = p, lastNewline = -1, lastStart = p
        while end < n {
            let (c, l) = peek(end)
            if c & S == 0 { break }
            if c & NL != 0 { lastNewline = end }
            lastStart = end
            end += l
        }
        if lastNewline >= 0 { return lastNewline + 1 }
        // 6: whitespace not followed by a non-space: all of it at the end, else all but the last char.
        if end == n { return end }
        if lastStart > p { return lastStart }
        // 7
        return end
    }
}
