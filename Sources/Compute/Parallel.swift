import CKernels
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
    /// enough to pay for it (`grain` items or more per chunk). With `chunksPerWorker` > 1 the work is
    /// cut finer than the workers, and Dispatch hands the next chunk to whichever thread is free: when
    /// a neighbouring process takes a core, the other threads take over its share instead of waiting.
    @inline(__always)
    public static func forChunks(_ count: Int, grain: Int = 1, chunksPerWorker: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(workers * max(1, chunksPerWorker), max(1, count / max(grain, 1)))
        // Inside a chunk already, the work stays on this thread: the cores are busy with the outer loop.
        if chunks <= 1 || elm_parallel_inside() != 0 {
            body(0..<count)
            return
        }
        // Kernels hand over raw pointers into disjoint slices; the chunks never overlap, so the
        // closure is safe to share although the compiler cannot prove it.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = count * c / chunks, hi = count * (c + 1) / chunks
                guard lo < hi else { return }
                let outer = elm_parallel_mark(1)
                shared.value(lo..<hi)
                elm_parallel_mark(outer)
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
