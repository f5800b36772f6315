import CKernels
import Dispatch
import Foundation

/// Threads through Dispatch: split a range of independent work items over the cores.
///
/// The workers are the calling thread and `workers − 1` helpers, each a Dispatch thread of its own
/// that serves CKernels' pool (elm_parallel.h): helpers spin a short while between tasks, so the
/// ~200 products of a decoded token do not each pay a thread wake-up, and claim chunks one at a
/// time, so a late or slowed helper costs only the chunk it holds. A task that finds the pool busy
/// (another thread's task) runs through `DispatchQueue.concurrentPerform` instead.
public enum Parallel {
    /// Worker count: `EXPLICITLM_THREADS` if set, else the active processor count.
    public static let workers: Int = {
        if let s = ProcessInfo.processInfo.environment["EXPLICITLM_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// How long a helper spins for the next task before it parks (default 200 µs); 0 parks at once.
    public static func setHelperSpin(microseconds: Int) { elm_pool_set_spin_us(microseconds) }

    /// Starts the helpers once, on first use.
    private static let helpers: Void = {
        for i in 1..<max(workers, 1) {
            DispatchQueue(label: "explicitlm.worker.\(i)", qos: .userInitiated).async { elm_pool_serve() }
        }
    }()

    /// One task as the pool's chunk function sees it.
    private struct Task {
        let count: Int, chunks: Int
        let body: (Range<Int>) -> Void

        @inline(__always)
        func run(_ c: Int) {
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Calls `body(range)` on contiguous chunks of 0..<count, in parallel when the work is large
    /// enough to pay for it (`grain` items or more per chunk). With `chunksPerWorker` > 1 the work is
    /// cut finer than the workers, and the next chunk goes to whichever thread is free: when a
    /// neighbouring process takes a core, the other threads take over its share instead of waiting.
    @inline(__always)
    public static func forChunks(_ count: Int, grain: Int = 1, chunksPerWorker: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(workers * max(1, chunksPerWorker), max(1, count / max(grain, 1)))
        // Inside a chunk already, the work stays on this thread: the cores are busy with the outer loop.
        if chunks <= 1 || elm_parallel_inside() != 0 {
            body(0..<count)
            return
        }
        _ = helpers
        // Kernels hand over raw pointers into disjoint slices; the chunks never overlap, so the
        // closure is safe to share although the compiler cannot prove it.
        withoutActuallyEscaping(body) { body in
            var task = Task(count: count, chunks: chunks, body: body)
            let ran = withUnsafeMutablePointer(to: &task) { task in
                elm_pool_run({ task, c in task!.assumingMemoryBound(to: Task.self).pointee.run(c) }, task, chunks)
            }
            guard ran == 0 else { return }
            let shared = UncheckedSendable(task)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let outer = elm_parallel_mark(1)
                shared.value.run(c)
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
