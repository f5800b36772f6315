import Foundation

/// The project's one seeded random generator (training order, initialisation, sampling):
/// xoshiro256** seeded through SplitMix64. Its whole state is
/// four words, stored in checkpoints so that a resumed run draws the same numbers.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public init(state: [UInt64]) {
        precondition(state.count == 4, "SeededGenerator state has four words")
        self.state = (state[0], state[1], state[2], state[3])
    }

    public var words: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool { a.words == b.words }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0; state.3 ^= state.1; state.1 ^= state.2; state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in (0, 1], 53 bits.
    public mutating func unit() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }

    /// A standard normal sample (Box–Muller; the second value is discarded to keep the state simple).
    public mutating func normal() -> Double {
        let u1 = unit(), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A random permutation of 0..<n (Fisher–Yates with unbiased bounded draws).
    public mutating func permutation(_ n: Int) -> [Int] {
        var order = Array(0..<n)
        if n < 2 { return order }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(next(upperBound: UInt64(i + 1)))
            order.swapAt(i, j)
        }
        return order
    }
}
