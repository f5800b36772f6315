/// One entry of tokenizer.json's `added_tokens`.
public struct AddedToken: Sendable, Equatable {
    public let id: Int32
    public let content: String
    /// Special tokens are dropped by `decode(skipSpecialTokens: true)`.
    public let special: Bool
    public let lstrip: Bool
    public let rstrip: Bool
    public let singleWord: Bool
}

/// Finds added tokens in raw text before anything else runs (leftmost, longest first), so that
/// "<|im_start|>" is one id and never reaches BPE.
struct AddedTokenMatcher: Sendable {
    let tokens: [AddedToken]
    private let contents: [[UInt8]]
    /// For each first byte, the indices of the tokens starting with it, longest first.
    private let byFirstByte: [[Int]]
    /// Whether any token starts with the byte: the common case, no candidate, costs one load.
    private let startsToken: [Bool]

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        let contents = tokens.map { Array($0.content.utf8) }
        self.contents = contents
        var table = [[Int]](repeating: [], count: 256)
        for (i, c) in contents.enumerated() where !c.isEmpty { table[Int(c[0])].append(i) }
        for b in 0..<256 { table[b].sort { contents[$0].count > contents[$1].count } }
        byFirstByte = table
        startsToken = table.map { !$0.isEmpty }
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Calls `plain(range)` for each stretch of ordinary text and `token(id, end)` for each added token, in order.
    func split(_ text: UnsafeBufferPointer<UInt8>, plain: (Range<Int>) -> Void, token: (Int32, Int) -> Void) {
        let n = text.count
        var segmentStart = 0, p = 0
        while p < n {
            if !startsToken[Int(text[p])] { p += 1; continue }
            let candidates = byFirstByte[Int(text[p])]
            var matched = -1
            for i in candidates {
                let c = contents[i]
                if c.count <= n - p && c.withUnsafeBufferPointer({ memcmp($0.baseAddress!, text.baseAddress! + p, c.count) }) == 0 {
                    let t = tokens[i]
                    if t.singleWord && !(isWordBoundary(text, before: p) && isWordBoundary(text, after: p + c.count)) { continue }
                    matched = i
                    break
                }
            }
            if matched < 0 { p += 1; continue }
            let t = tokens[matched]
            var start = p, end = p + contents[matched].count
            if t.lstrip { while start > segmentStart && isSpace(text[start - 1]) { start -= 1 } }
            if t.rstrip { while end < n && isSpace(text[end]) { end += 1 } }
            if start > segmentStart { plain(segmentStart..<start) }
            token(t.id, end)
            segmentStart = end
            p = end
        }
        if n > segmentStart { plain(segmentStart..<n) }
    }

    private func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

    private func isWordByte(_ b: UInt8) -> Bool {
        b >= 0x80 || b == UInt8(ascii: "_") || QwenSplitter.asciiClass[Int(b)] & (QwenSplitter.letter | QwenSplitter.number) != 0
    }

    private func isWordBoundary(_ text: UnsafeBufferPointer<UInt8>, before p: Int) -> Bool {
        p == 0 || !isWordByte(text[p - 1])
    }

    private func isWordBoundary(_ text: UnsafeBufferPointer<UInt8>, after p: Int) -> Bool {
        p >= text.count || !isWordByte(text[p])
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
