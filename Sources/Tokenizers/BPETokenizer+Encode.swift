import Foundation

extension BPETokenizer {
    /// The ids of `text`. Added tokens (e.g. `<|im_start|>`, `<think>`) written in the text become their ids.
    public func encode(_ text: String) -> [Int32] {
        var ends: [Int]? = nil
        return encode(text, tokenEnds: &ends)
    }

    /// The ids of `text` and, for each id, the UTF-8 offset in `text` where its bytes end. Inside a
    /// stretch of text that NFC changes, offsets count the normalized bytes (clamped to the stretch).
    public func encodeWithOffsets(_ text: String) -> (ids: [Int32], ends: [Int]) {
        var ends: [Int]? = []
        let ids = encode(text, tokenEnds: &ends)
        return (ids, ends!)
    }

    private func encode(_ text: String, tokenEnds: inout [Int]?) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3 + 8)
        var scratch = BPEScratch()
        var pieceEnds: [Int] = []
        var text = text
        text.withUTF8 { buf in
            addedMatcher.split(buf, plain: { range in
                let before = out.count
                encodeSegment(UnsafeBufferPointer(rebasing: buf[range]), into: &out, scratch: &scratch, ends: &pieceEnds)
                if tokenEnds != nil {
                    var end = range.lowerBound
                    for id in out[before...] {
                        end = min(end + Int(decodeOffsets[Int(id) + 1] - decodeOffsets[Int(id)]), range.upperBound)
                        tokenEnds!.append(end)
                    }
                }
            }, token: { id, end in
                out.append(id)
                tokenEnds?.append(end)
            })
        }
        return out
    }

    /// Ordinary text between added tokens: NFC, split, BPE on each piece (through the word cache).
    private func encodeSegment(_ segment: UnsafeBufferPointer<UInt8>, into out: inout [Int32],
                               scratch: inout BPEScratch, ends: inout [Int]) {
        if normalizeNFC && BPETokenizer.mayChangeUnderNFC(segment) {
            var normalized = String(decoding: segment, as: UTF8.self).precomposedStringWithCanonicalMapping
            normalized.withUTF8 { splitAndMerge($0, into: &out, scratch: &scratch, ends: &ends) }
        } else {
            splitAndMerge(segment, into: &out, scratch: &scratch, ends: &ends)
        }
    }

    private func splitAndMerge(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Int32],
                               scratch: inout BPEScratch, ends: inout [Int]) {
        ends.removeAll(keepingCapacity: true)
        splitPattern.split(text, string: { String(decoding: text, as: UTF8.self) }, into: &ends)
        var start = 0
        for end in ends {
            let piece = UnsafeBufferPointer(rebasing: text[start..<end])
            start = end
            if piece.count == 1 { out.append(model.byteIds[Int(piece[0])]); continue }
            if piece.count > WordCache.maxWordBytes {
                model.encode(piece, into: &out, scratch: &scratch)
                continue
            }
            let h = WordCache.hash(piece)
            if cache.lookup(piece, hash: h, into: &out) { continue }
            let before = out.count
            model.encode(piece, into: &out, scratch: &scratch)
            cache.insert(piece, hash: h, ids: out[before...])
        }
    }

    /// False when every character is one NFC leaves alone whatever follows it: below U+0300 (Latin,
    /// ASCII), CJK ideographs and Hangul syllables. Combining marks etc. send the text to Foundation.
    static func mayChangeUnderNFC(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = text.count
        while i < n {
            let b0 = text[i]
            if b0 < 0x80 { i += 1; continue }
            var v: UInt32, len: Int
            if b0 < 0xE0 { len = 2; v = UInt32(b0 & 0x1F) } else if b0 < 0xF0 { len = 3; v = UInt32(b0 & 0x0F) } else { len = 4; v = UInt32(b0 & 0x07) }
            guard i + len <= n else { return true }
            for k in 1..<len { v = v << 6 | UInt32(text[i + k] & 0x3F) }
            if !(v < 0x300 || (0x3400...0x9FFF).contains(v) || (0xAC00...0xD7A3).contains(v)) { return true }
            i += len
        }
        return false
    }

    // MARK: Decoding

    /// The text of `ids`. Invalid UTF-8 (e.g. a cut multi-byte character) becomes U+FFFD, as in Hugging Face.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        String(decoding: bytes(of: ids, skipSpecialTokens: skipSpecialTokens), as: UTF8.self)
    }

    /// The raw bytes of `ids`, before any UTF-8 repair: for byte-level BPE, the bytes of a prefix of
    /// a text's ids are a prefix of the text's (normalised) bytes.
    public func bytes(of ids: some Sequence<Int32>, skipSpecialTokens: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.underestimatedCount * 4)
        for id in ids { appendBytes(of: id, skipSpecialTokens: skipSpecialTokens, to: &bytes) }
        return bytes
    }

    /// The raw bytes of one id (empty for an unknown id, or a special one when skipping them).
    func appendBytes(of id: Int32, skipSpecialTokens: Bool, to bytes: inout [UInt8]) {
        guard id >= 0, Int(id) < vocabularySize else { return }
        if skipSpecialTokens && specialIds.contains(id) { return }
        let a = Int(decodeOffsets[Int(id)]), b = Int(decodeOffsets[Int(id) + 1])
        decodeBytes.withUnsafeBufferPointer { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0[a..<b])) }
    }

    /// A decoder for ids arriving one at a time during generation.
    public func makeStreamingDecoder(skipSpecialTokens: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecialTokens: skipSpecialTokens)
    }
}

/// Turns ids into text as they arrive, holding back the bytes of a multi-byte character until it is
/// complete, so that a stream never shows half a character. Concatenating everything `push` and
/// `finish` return gives `decode(allIds)`.
public struct StreamingDecoder: Sendable {
    let tokenizer: BPETokenizer
    let skipSpecialTokens: Bool
    private var pending: [UInt8] = []

    init(tokenizer: BPETokenizer, skipSpecialTokens: Bool) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id; returns the text that is now complete (possibly empty).
    public mutating func push(_ id: Int32) -> String {
        tokenizer.appendBytes(of: id, skipSpecialTokens: skipSpecialTokens, to: &pending)
        let cut = StreamingDecoder.completePrefix(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[0..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// The text still held back (an unfinished character becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside a multi-byte character that could still be
    /// completed by later bytes.
    static func completePrefix(_ b: [UInt8]) -> Int {
        let n = b.count
        // Look back at most 3 bytes for the lead byte of the last character.
        var i = n - 1
        while i >= 0 && i >= n - 4 {
            let c = b[i]
            if c & 0xC0 != 0x80 {  // ASCII or a lead byte
                let need: Int
                if c < 0xC2 || c > 0xF4 { need = 1 } else if c >= 0xF0 { need = 4 } else if c >= 0xE0 { need = 3 } else { need = 2 }
                return n - i < need ? i : n
            }
            i -= 1
        }
        return n
    }
}
