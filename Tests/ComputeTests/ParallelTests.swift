import Compute
import Dispatch
import Foundation
import XCTest

/// The worker pool behind `Parallel`: every chunk of every task runs exactly once, on whichever
/// thread claims it, however tasks follow one another, from how many threads, and whether the
/// helpers are spinning or parked.
final class ParallelTests: XCTestCase {
    override func tearDown() {
        Parallel.setHelperSpin(microseconds: 200)
    }

    func testParallelChunksCoverTheRangeOnce() {
        for count in [0, 1, 7, 1000] {
            var hits = [Int](repeating: 0, count: count)
            hits.withUnsafeMutableBufferPointer { h in
                Parallel.forChunks(count, grain: 3) { range in for i in range { h[i] += 1 } }
            }
            XCTAssertEqual(hits, [Int](repeating: 1, count: count))
        }
    }

    /// Tasks back to back, as a decoded token's products: a helper still finishing one task must
    /// never claim, skip or run a chunk of the next (each task writes its own number into its slots).
    func testTasksBackToBackRunEachChunkOnce() {
        for spin in [200, 0] {
            Parallel.setHelperSpin(microseconds: spin)
            XCTAssertEqual(Self.runTasks(3000, seed: UInt64(spin + 1)), [], "spin \(spin) µs")
        }
    }

    /// Two threads starting tasks at once: one holds the pool, the other runs through Dispatch.
    func testTasksFromTwoThreadsAtOnce() {
        let failures = UncheckedSendable(UnsafeMutablePointer<Int>.allocate(capacity: 2))
        defer { failures.value.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 2) { t in
            failures.value[t] = Self.runTasks(1500, seed: UInt64(10 + t)).count
        }
        XCTAssertEqual([failures.value[0], failures.value[1]], [0, 0])
    }

    /// A loop inside a chunk runs on that chunk's thread.
    func testNestedLoopsStayOnTheirThread() {
        let count = 8
        var moved = [Int](repeating: 0, count: count)
        moved.withUnsafeMutableBufferPointer { moved in
            Parallel.forEach(count) { i in
                let outer = pthread_self()
                Parallel.forEach(64) { _ in if pthread_self() != outer { moved[i] = 1 } }
            }
        }
        XCTAssertEqual(moved, [Int](repeating: 0, count: count))
    }

    /// Helpers that parked (no spin) are woken by the next task and take part in it: a lost wake-up
    /// would leave every chunk to the calling thread.
    func testParkedHelpersWakeForTheNextTask() throws {
        try XCTSkipIf(Parallel.workers < 2, "one worker: no helpers")
        Parallel.setHelperSpin(microseconds: 0)
        let caller = pthread_self()
        var tasksWithHelpers = 0
        for _ in 0..<20 {
            usleep(2000)  // the helpers park
            var others = [Int](repeating: 0, count: 4)
            others.withUnsafeMutableBufferPointer { others in
                Parallel.forChunks(4, chunksPerWorker: 4) { range in
                    usleep(5000)
                    if pthread_self() != caller { others[range.lowerBound] = 1 }
                }
            }
            if others.contains(1) { tasksWithHelpers += 1 }
        }
        XCTAssertGreaterThan(tasksWithHelpers, 0, "no helper ran a chunk after parking")
    }

    /// Runs `tasks` tasks of random sizes; returns the task numbers whose slots were not each written
    /// once with that number.
    private static func runTasks(_ tasks: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        let width = 64
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: tasks * width)
        slots.initialize(repeating: -1, count: tasks * width)
        // Where each chunk leaves its busy work's result, so that the work is not optimised away.
        let busyResults = UnsafeMutablePointer<Int>.allocate(capacity: tasks * width)
        defer { slots.deallocate(); busyResults.deallocate() }
        var counts = [Int]()
        for t in 0..<tasks {
            let count = Int.random(in: 2...width, using: &rng)
            counts.append(count)
            let busy = Int.random(in: 0...3000, using: &rng)  // so that helpers claim chunks too
            Parallel.forChunks(count, chunksPerWorker: Int.random(in: 1...4, using: &rng)) { range in
                for i in range {
                    var x = i
                    for _ in 0..<busy { x = x &* 6364136223846793005 &+ 1 }
                    busyResults[t * width + i] = x
                    slots[t * width + i] = slots[t * width + i] == -1 ? t : -2
                }
            }
        }
        return (0..<tasks).filter { t in (0..<width).contains { i in slots[t * width + i] != (i < counts[t] ? t : -1) } }
    }
}
