import Dispatch
import Foundation

/// Threads through Dispatch: split a range of independent work items over the cores.
public enum Parallel {
    /// Worker count: `EXPLICITLM_THREADS` if set, else the active processor count.
    public static let workers: Int = {
        if let s = ProcessInfo.processInfo.environment["EXPLICITLM_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body(range)` on contiguous chunks of 0..<count, in parallel when the work is large
    /// enough to pay for it (`grain` items or more per chunk).
    @inline(__always)
    public static func forChunks(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(workers, max(1, count / max(grain, 1)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        // Kernels hand over raw pointers into disjoint slices; the chunks never overlap, so the
        // closure is safe to share although the compiler cannot prove it.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = count * c / chunks, hi = count * (c + 1) / chunks
                if lo < hi { shared.value(lo..<hi) }
            }
        }
    }

    /// Calls `body(i)` for every i in 0..<count, chunked over the workers.
    @inline(__always)
    public static func forEach(_ count: Int, grain: Int = 1, _ body: (Int) -> Void) {
        forChunks(count, grain: grain) { range in for i in range { body(i) } }
    }
}

/// Wraps a value the caller promises to use without data races.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
