/// CRC-32 as ZIP stores it (IEEE 802.3, reflected polynomial 0xEDB88320), eight bytes at a time.
enum CRC32 {
    /// table[256·k + b]: the CRC of byte b followed by k zero bytes.
    private static let table: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for b in 0..<256 {
            var c = UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[b] = c
        }
        for k in 1..<8 {
            for b in 0..<256 {
                let previous = t[256 * (k - 1) + b]
                t[256 * k + b] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let t = table
        var c: UInt32 = 0xFFFF_FFFF
        var i = 0
        let n = bytes.count
        @inline(__always) func at(_ k: Int, _ v: UInt32) -> UInt32 { t[256 * k + Int(v & 0xFF)] }
        while n - i >= 8 {
            let lo = c ^ UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self))
            let hi = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
            c = at(7, lo) ^ at(6, lo >> 8) ^ at(5, lo >> 16) ^ at(4, lo >> 24)
                ^ at(3, hi) ^ at(2, hi >> 8) ^ at(1, hi >> 16) ^ at(0, hi >> 24)
            i += 8
        }
        while i < n {
            c = at(0, c ^ UInt32(bytes[i])) ^ (c >> 8)
            i += 1
        }
        return ~c
    }
}
