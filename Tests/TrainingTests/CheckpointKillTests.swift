import Compute
import Foundation
import TestSupport
import Training
import XCTest

/// A process killed (SIGKILL) while it saves checkpoints leaves a readable, complete checkpoint.
/// The parent re-runs this test binary as a child that saves in a loop, kills it at a few moments,
/// and reads what is on disk.
final class CheckpointKillTests: XCTestCase {
    static let childKey = "EXPLICITLM_CHECKPOINT_CHILD_DIR"

    /// Checkpoints of 2 × 1 Mi floats, each filled with its step number, written over and over.
    func testChildSavesForever() throws {
        guard let dir = ProcessInfo.processInfo.environment[Self.childKey] else { return }  // only as the child
        let url = URL(fileURLWithPath: dir).appendingPathComponent(TrainingCheckpoint.fileName)
        let w = Tensor(zeros: [1024, 1024]), m = Tensor(zeros: [1024, 1024])
        for step in 1... {
            w.fill(Float(step)); m.fill(Float(step))
            try TrainingCheckpoint(step: step, epoch: 0, index: step, order: Array(0..<step), rng: SeededGenerator(seed: UInt64(step)),
                                   parameters: ["w": w], expAvg: ["w": m], expAvgSq: ["w": m], settings: ["step": "\(step)"],
                                   modelConfig: "").write(to: url)
        }
    }

    func testKilledWhileSavingLeavesACompleteCheckpoint() throws {
        if ProcessInfo.processInfo.environment[Self.childKey] != nil { return }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(TrainingCheckpoint.fileName)
        var lastStep = 0
        for delay in [0.25, 0.4, 0.55] {
            try KilledChild.run("TrainingTests.CheckpointKillTests/testChildSavesForever", environment: [Self.childKey: dir.path],
                                killAfter: delay)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }  // killed before the first save
            let c = try TrainingCheckpoint.read(from: url)
            let value = Float(c.step)
            XCTAssertGreaterThan(c.step, 0)
            XCTAssertEqual(c.index, c.step)
            XCTAssertEqual(c.order.count, c.step)
            XCTAssertEqual(c.settings["step"], "\(c.step)")
            XCTAssertTrue(c.parameters["w"]!.array.allSatisfy { $0 == value }, "param of step \(c.step) is mixed")
            XCTAssertTrue(c.expAvgSq["w"]!.array.allSatisfy { $0 == value }, "exp_avg_sq of step \(c.step) is mixed")
            lastStep = c.step
        }
        XCTAssertGreaterThan(lastStep, 0, "the child never completed a save")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        print("checkpoint kill test: last complete step \(lastStep), unfinished temporary files \(leftovers.count)")
    }
}
