import Foundation

/// The `BertNormalizer` and `BertPreTokenizer` of Hugging Face tokenizers, on Unicode scalars
/// (the Rust library works on `char`s, which are scalars; Swift `Character`s would merge them).
public struct BertNormalizer: Sendable, Equatable {
    public var cleanText = true
    public var handleChineseChars = true
    /// nil: follow `lowercase`, as the reference does.
    public var stripAccents: Bool?
    public var lowercase = true

    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    /// Clean text → space around CJK ideographs → strip accents (NFD, drop Mn) → lowercase.
    public func normalize(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(input.count + 8)
        for s in input {
            if cleanText {
                if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
                if Self.isBertWhitespace(s) { out.append(" "); continue }
            }
            if handleChineseChars && Self.isChinese(s) {
                out.append(" "); out.append(s); out.append(" ")
            } else {
                out.append(s)
            }
        }
        if stripAccents ?? lowercase {
            var text = String.UnicodeScalarView()
            text.append(contentsOf: out)
            let decomposed = String(text).decomposedStringWithCanonicalMapping
            out = decomposed.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }
        }
        if lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(out.count)
            for s in out {
                // Per scalar, like Rust's char::to_lowercase (no context such as a final sigma).
                if s.isASCII {
                    lowered.append(s.value >= 65 && s.value <= 90 ? Unicode.Scalar(s.value + 32)! : s)
                } else {
                    lowered.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
                }
            }
            out = lowered
        }
        return out
    }

    /// BertPreTokenizer: split on whitespace (dropped) and on punctuation (each mark its own word).
    public static func preTokenize(_ text: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var words: [ArraySlice<Unicode.Scalar>] = []
        var start = 0
        for (i, s) in text.enumerated() {
            if s.properties.isWhitespace {
                if start < i { words.append(text[start..<i]) }
                start = i + 1
            } else if isPunctuation(s) {
                if start < i { words.append(text[start..<i]) }
                words.append(text[i..<(i + 1)])
                start = i + 1
            }
        }
        if start < text.count { words.append(text[start..<text.count]) }
        return words
    }

    /// Tab, newline and carriage return count as whitespace although they are controls.
    static func isBertWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// Categories Cc, Cf, Co, Cs, except tab, newline and carriage return. Unassigned scalars (Cn)
    /// stay, as in the reference (measured: U+0378 is kept, U+E000 removed).
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks, as BERT defines "Chinese character".
    static func isChinese(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }

    /// ASCII punctuation (which includes $, +, <, =, >, ^, `, |, ~) or any Unicode P* category.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .closePunctuation, .finalPunctuation,
             .initialPunctuation, .otherPunctuation, .openPunctuation:
            return true
        default: return false
        }
    }
}
