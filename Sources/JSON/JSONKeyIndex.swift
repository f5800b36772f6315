/// Finds an earlier member with the same key in a large object (a 151k-entry vocabulary), for the
/// duplicate-key rules. Keys are compared by their UTF-8 bytes, as Python and serde_json compare them
/// (Swift's `==` and `Hashable` would also merge canonically equivalent keys such as "é" and "e\u{301}",
/// and its hashing costs more than the rest of the parse).
struct JSONKeyIndex {
    /// Open addressing: member index + 1, or 0 for an empty slot.
    private var slots: [Int32] = []
    private var hashes: [UInt64] = []
    private var mask = 0

    var isEmpty: Bool { slots.isEmpty }

    static func hash(_ key: String) -> UInt64 {
        var key = key
        return key.withUTF8 { b in
            var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(b.count)
            for c in b { h = (h ^ UInt64(c)) &* 0x0000_0100_0000_01B3 }
            return h ^ (h >> 29)
        }
    }

    static func same(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in x.count == y.count && x.elementsEqual(y) } }
    }

    /// Indexes `pairs` so far (called once, when an object grows past linear search).
    mutating func build(_ pairs: [(String, JSONValue)]) {
        let capacity = max(64, 1 << (Int.bitWidth - (pairs.count * 2).leadingZeroBitCount))
        slots = [Int32](repeating: 0, count: capacity)
        mask = capacity - 1
        hashes = []
        hashes.reserveCapacity(pairs.count)
        for p in pairs { hashes.append(Self.hash(p.0)) }
        for i in pairs.indices { place(i) }
    }

    /// The index of the member keyed `key`, or nil. `h` is `hash(key)`.
    func find(_ key: String, hash h: UInt64, in pairs: [(String, JSONValue)]) -> Int? {
        var s = Int(truncatingIfNeeded: h) & mask
        while slots[s] != 0 {
            let i = Int(slots[s]) - 1
            if hashes[i] == h && Self.same(pairs[i].0, key) { return i }
            s = (s + 1) & mask
        }
        return nil
    }

    /// Records that member `hashes.count` (the next one appended) has hash `h`.
    mutating func append(hash h: UInt64) {
        hashes.append(h)
        if hashes.count * 2 > slots.count {
            slots = [Int32](repeating: 0, count: slots.count * 2)
            mask = slots.count - 1
            for i in hashes.indices { place(i) }
        } else {
            place(hashes.count - 1)
        }
    }

    private mutating func place(_ i: Int) {
        var s = Int(truncatingIfNeeded: hashes[i]) & mask
        while slots[s] != 0 { s = (s + 1) & mask }
        slots[s] = Int32(i + 1)
    }
}
