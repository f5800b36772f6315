import Foundation

/// Token text → id, keyed by the UTF-8 bytes of the text in one flat arena. Swift's [String: Int32]
/// spent most of the load time hashing and comparing non-ASCII strings (its == is canonical
/// equivalence); bytes are what tokenizer.json means anyway.
struct TokenTable: Sendable {
    private var bytes: [UInt8] = []
    private var starts: [Int32] = []
    private var counts: [Int32] = []
    private var ids: [Int32] = []
    private var hashes: [UInt64] = []
    /// High 32 bits of the hash, then entry index + 1 (0: empty), so most probes touch nothing else.
    private var slots: [UInt64]
    private var mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
        bytes.reserveCapacity(capacity * 8)
        starts.reserveCapacity(capacity)
        counts.reserveCapacity(capacity)
        ids.reserveCapacity(capacity)
        hashes.reserveCapacity(capacity)
    }

    @inline(__always) private static func tag(_ h: UInt64) -> UInt64 { h & 0xFFFF_FFFF_0000_0000 }
    @inline(__always) private func home(_ h: UInt64) -> Int { Int(truncatingIfNeeded: (h &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask }

    var count: Int { ids.count }

    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h ^ (h >> 31)
    }

    /// Finds the slot holding `key`, or the empty slot where it would go.
    private func slot(for key: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Int {
        var i = home(h)
        let tag = TokenTable.tag(h)
        while true {
            let v = slots[i]
            if v == 0 { return i }
            let e = Int(v & 0xFFFF_FFFF) - 1
            if v & 0xFFFF_FFFF_0000_0000 == tag && hashes[e] == h && Int(counts[e]) == key.count {
                let same = bytes.withUnsafeBufferPointer {
                    key.count == 0 || memcmp($0.baseAddress! + Int(starts[e]), key.baseAddress!, key.count) == 0
                }
                if same { return i }
            }
            i = (i + 1) & mask
        }
    }

    func id(of key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let v = slots[slot(for: key, hash: TokenTable.hash(key))]
        return v == 0 ? nil : ids[Int(v & 0xFFFF_FFFF) - 1]
    }

    func id(of token: String) -> Int32? {
        var t = token
        return t.withUTF8 { id(of: $0) }
    }

    /// Sets the id of `token` (a later setting replaces an earlier one).
    mutating func set(_ token: String, _ id: Int32) {
        var t = token
        t.withUTF8 { key in
            let h = TokenTable.hash(key)
            let s = slot(for: key, hash: h)
            if slots[s] != 0 { ids[Int(slots[s] & 0xFFFF_FFFF) - 1] = id; return }
            slots[s] = TokenTable.tag(h) | UInt64(ids.count + 1)
            starts.append(Int32(bytes.count))
            counts.append(Int32(key.count))
            bytes.append(contentsOf: key)
            ids.append(id)
            hashes.append(h)
            if ids.count * 2 > slots.count { grow() }
        }
    }

    private mutating func grow() {
        slots = [UInt64](repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for e in ids.indices {
            var i = home(hashes[e])
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = TokenTable.tag(hashes[e]) | UInt64(e + 1)
        }
    }
}
