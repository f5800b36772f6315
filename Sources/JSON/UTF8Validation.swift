/// Strict UTF-8 checking (no overlongs, surrogates or code points above U+10FFFF), used before
/// `String(decoding:)`, which would silently repair bad bytes.
public enum UTF8Validation {
    public static func isValid(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let len: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF  // allowed range of the second byte
            switch c {
            case 0xC2...0xDF: len = 2
            case 0xE0: len = 3; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: len = 3
            case 0xED: len = 3; hi = 0x9F
            case 0xF0: len = 4; lo = 0x90
            case 0xF1...0xF3: len = 4
            case 0xF4: len = 4; hi = 0x8F
            default: return false
            }
            guard i + len <= n, b[i + 1] >= lo, b[i + 1] <= hi else { return false }
            for k in 2..<len where b[i + k] & 0xC0 != 0x80 { return false }
            i += len
        }
        return true
    }

    /// The string for `bytes`, or nil when they are not valid UTF-8.
    public static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        isValid(bytes) ? String(decoding: bytes, as: UTF8.self) : nil
    }

    public static func string(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer { string($0) }
    }
}
