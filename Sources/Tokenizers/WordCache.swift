import Foundation

/// Remembers the ids of recently encoded words (pre-tokens), as Hugging Face's BPE cache does: natural
/// text repeats its words, and a hit skips the merges. Words and ids live in two flat arenas, so a lookup
/// allocates nothing. Shared by all threads behind a lock; cleared when full.
final class WordCache: @unchecked Sendable {  // all state is guarded by `lock`
    static let maxWordBytes = 64
    private static let maxEntries = 1 << 16

    private let lock = NSLock()
    private var slots: [Slot]
    private var keyBytes: [UInt8] = []
    private var valueIds: [Int32] = []
    private var entries = 0
    private let mask: Int

    private struct Slot {
        var hash: UInt64 = 0
        var keyStart: Int32 = -1  // -1: empty
        var keyCount: Int32 = 0
        var valueStart: Int32 = 0
        var valueCount: Int32 = 0
    }

    init() {
        slots = [Slot](repeating: Slot(), count: WordCache.maxEntries * 2)
        mask = WordCache.maxEntries * 2 - 1
        keyBytes.reserveCapacity(1 << 20)
        valueIds.reserveCapacity(1 << 18)
    }

    @inline(__always)
    static func hash(_ word: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in word { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h ^ (h >> 29)
    }

    /// Appends the cached ids of `word` to `out` and returns true, or returns false on a miss.
    func lookup(_ word: UnsafeBufferPointer<UInt8>, hash h: UInt64, into out: inout [Int32]) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s.keyStart < 0 { return false }
            if s.hash == h && Int(s.keyCount) == word.count {
                let same = keyBytes.withUnsafeBufferPointer {
                    memcmp($0.baseAddress! + Int(s.keyStart), word.baseAddress!, word.count) == 0
                }
                if same {
                    valueIds.withUnsafeBufferPointer {
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[Int(s.valueStart)..<Int(s.valueStart + s.valueCount)]))
                    }
                    return true
                }
            }
            i = (i + 1) & mask
        }
    }

    func insert(_ word: UnsafeBufferPointer<UInt8>, hash h: UInt64, ids: ArraySlice<Int32>) {
        lock.lock()
        defer { lock.unlock() }
        if entries >= WordCache.maxEntries {
            for j in slots.indices { slots[j].keyStart = -1 }
            keyBytes.removeAll(keepingCapacity: true)
            valueIds.removeAll(keepingCapacity: true)
            entries = 0
        }
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i].keyStart >= 0 {
            let s = slots[i]
            if s.hash == h && Int(s.keyCount) == word.count {
                let same = keyBytes.withUnsafeBufferPointer {
                    memcmp($0.baseAddress! + Int(s.keyStart), word.baseAddress!, word.count) == 0
                }
                if same { return }  // another thread got here first
            }
            i = (i + 1) & mask
        }
        slots[i] = Slot(hash: h, keyStart: Int32(keyBytes.count), keyCount: Int32(word.count),
                        valueStart: Int32(valueIds.count), valueCount: Int32(ids.count))
        keyBytes.append(contentsOf: word)
        valueIds.append(contentsOf: ids)
        entries += 1
    }
}
