/// Byte-level BPE merges over token ids. A word (the bytes of one pre-token) starts as one symbol per byte
/// and the adjacent pair with the lowest merge rank is merged, leftmost first, until no pair has a rank —
/// the order Hugging Face's BPE applies merges in.
struct BPEModel: Sendable {
    /// Token id of each single byte.
    let byteIds: [Int32]
    /// (left id, right id) → (rank, merged id).
    let merges: PairTable

    /// Words longer than this use the heap-based merge: the rescan below is quadratic, and a long run
    /// of letters (Chinese without punctuation, a base64 blob) is one word.
    static let longWord = 256

    /// Appends the ids of `word` to `out`. `scratch` holds working arrays reused across calls.
    func encode(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32], scratch: inout BPEScratch) {
        let n = word.count
        if n == 1 { out.append(byteIds[Int(word[0])]); return }
        if n > BPEModel.longWord { encodeLong(word, into: &out); return }
        scratch.reserve(n)
        let sym = scratch.symbols, rank = scratch.ranks
        for i in 0..<n { sym[i] = byteIds[Int(word[i])] }
        var count = n
        // rank[i] is the rank of the pair (sym[i], sym[i+1]), Int32.max when it is not a merge.
        for i in 0..<(count - 1) { rank[i] = merges.rank(sym[i], sym[i + 1]) }
        while count > 1 {
            var best = Int32.max, at = -1
            for i in 0..<(count - 1) where rank[i] < best { best = rank[i]; at = i }
            if at < 0 { break }
            sym[at] = merges.merged(sym[at], sym[at + 1])
            // Close the gap left by sym[at + 1].
            let tail = count - at - 2
            if tail > 0 {
                (sym + at + 1).update(from: sym + at + 2, count: tail)
                (rank + at + 1).update(from: rank + at + 2, count: tail - 1)
            }
            count -= 1
            if at > 0 { rank[at - 1] = merges.rank(sym[at - 1], sym[at]) }
            if at < count - 1 { rank[at] = merges.rank(sym[at], sym[at + 1]) }
        }
        out.append(contentsOf: UnsafeBufferPointer(start: sym, count: count))
    }
}

extension BPEModel {
    /// The same merges in O(n log n): a min-heap of candidate pairs ordered by (rank, position), with
    /// stale entries skipped when popped — Hugging Face's `Word::merge_all`.
    func encodeLong(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        let n = word.count
        var sym = word.map { byteIds[Int($0)] }
        var next = Array(1...n)  // n: none
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap()
        for i in 0..<(n - 1) {
            let r = merges.rank(sym[i], sym[i + 1])
            if r != Int32.max { heap.push(rank: r, pos: i, merged: merges.merged(sym[i], sym[i + 1])) }
        }
        while let top = heap.pop() {
            let pos = top.pos
            guard alive[pos], next[pos] < n else { continue }
            let right = next[pos]
            // Skip an entry whose pair changed since it was pushed.
            guard merges.rank(sym[pos], sym[right]) == top.rank, merges.merged(sym[pos], sym[right]) == top.merged else { continue }
            sym[pos] = top.merged
            alive[right] = false
            next[pos] = next[right]
            if next[pos] < n { prev[next[pos]] = pos }
            if prev[pos] >= 0 {
                let p = prev[pos], r = merges.rank(sym[p], sym[pos])
                if r != Int32.max { heap.push(rank: r, pos: p, merged: merges.merged(sym[p], sym[pos])) }
            }
            if next[pos] < n {
                let q = next[pos], r = merges.rank(sym[pos], sym[q])
                if r != Int32.max { heap.push(rank: r, pos: pos, merged: merges.merged(sym[pos], sym[q])) }
            }
        }
        var i = 0
        while i < n {
            out.append(sym[i])
            i = next[i]
        }
    }
}

/// Binary min-heap of merge candidates keyed by (rank, position).
struct MergeHeap {
    struct Entry { var rank: Int32; var pos: Int; var merged: Int32 }
    private var items: [Entry] = []

    @inline(__always) private static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos
    }

    mutating func push(rank: Int32, pos: Int, merged: Int32) {
        items.append(Entry(rank: rank, pos: pos, merged: merged))
        var c = items.count - 1
        while c > 0 {
            let p = (c - 1) / 2
            guard MergeHeap.less(items[c], items[p]) else { break }
            items.swapAt(c, p)
            c = p
        }
    }

    mutating func pop() -> Entry? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var p = 0
            while true {
                let l = 2 * p + 1, r = l + 1
                var m = p
                if l < items.count && MergeHeap.less(items[l], items[m]) { m = l }
                if r < items.count && MergeHeap.less(items[r], items[m]) { m = r }
                if m == p { break }
                items.swapAt(p, m)
                p = m
            }
        }
        return top
    }
}

/// Working memory for `BPEModel.encode`, grown on demand.
struct BPEScratch: ~Copyable {
    private(set) var symbols: UnsafeMutablePointer<Int32>
    private(set) var ranks: UnsafeMutablePointer<Int32>
    private var capacity: Int

    init() {
        capacity = 256
        symbols = .allocate(capacity: capacity)
        ranks = .allocate(capacity: capacity)
    }

    mutating func reserve(_ n: Int) {
        guard n > capacity else { return }
        symbols.deallocate(); ranks.deallocate()
        capacity = max(n, capacity * 2)
        symbols = .allocate(capacity: capacity)
        ranks = .allocate(capacity: capacity)
    }

    deinit { symbols.deallocate(); ranks.deallocate() }
}

/// Open-addressing hash table from a pair of ids to (rank, merged id); Swift's Dictionary hashes with
/// SipHash, which dominated the BPE inner loop.
struct PairTable: @unchecked Sendable {  // immutable after init
    private let keys: [UInt64]
    private let values: [UInt64]  // rank << 32 | merged id
    private let mask: Int
    private static let empty = UInt64.max

    init(_ entries: [(left: Int32, right: Int32, rank: Int32, merged: Int32)]) {
        var size = 1
        while size < entries.count * 2 { size <<= 1 }
        var keys = [UInt64](repeating: PairTable.empty, count: size)
        var values = [UInt64](repeating: 0, count: size)
        mask = size - 1
        for e in entries {
            let key = UInt64(UInt32(bitPattern: e.left)) << 32 | UInt64(UInt32(bitPattern: e.right))
            var slot = PairTable.slot(key) & mask
            while keys[slot] != PairTable.empty && keys[slot] != key { slot = (slot + 1) & mask }
            // A pair listed twice keeps its last rank, as Hugging Face's HashMap collect does.
            keys[slot] = key
            values[slot] = UInt64(UInt32(bitPattern: e.rank)) << 32 | UInt64(UInt32(bitPattern: e.merged))
        }
        self.keys = keys
        self.values = values
    }

    @inline(__always)
    private static func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32)
    }

    @inline(__always)
    private func lookup(_ a: Int32, _ b: Int32) -> UInt64? {
        let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
        return keys.withUnsafeBufferPointer { k in
            var slot = PairTable.slot(key) & mask
            while true {
                let found = k[slot]
                if found == key { return values.withUnsafeBufferPointer { $0[slot] } }
                if found == PairTable.empty { return nil }
                slot = (slot + 1) & mask
            }
        }
    }

    @inline(__always)
    func rank(_ a: Int32, _ b: Int32) -> Int32 {
        guard let v = lookup(a, b) else { return Int32.max }
        return Int32(truncatingIfNeeded: v >> 32)
    }

    @inline(__always)
    func merged(_ a: Int32, _ b: Int32) -> Int32 {
        Int32(truncatingIfNeeded: lookup(a, b)! & 0xFFFF_FFFF)
    }
}
