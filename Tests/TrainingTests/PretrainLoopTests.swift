import Compute
import Foundation
import SafeTensors
import Training
import XCTest

/// The training loop on a bigram model against a PyTorch replica, and resuming exactly.
final class PretrainLoopTests: XCTestCase {
    struct Setup {
        let data: PretrainData
        let W: Tensor, b: Tensor
        var config: PretrainConfig
        let f: SafeTensorsFile
    }

    func setup(_ out: URL) throws -> Setup {
        let f = try OptimFixtures.file()
        let spec = try f.doubles("bigram.spec")
        let tokens = try f.int32s("bigram.tokens")
        var sequences: [[Int32]] = [], start = 0
        for n in try f.int32s("bigram.lengths") {
            sequences.append(Array(tokens[start..<(start + Int(n))]))
            start += Int(n)
        }
        var c = PretrainConfig()
        c.batchSize = Int(spec[1]); c.accumulationSteps = Int(spec[2]); c.epochs = Int(spec[3])
        c.maxSteps = Int(spec[4]); c.learningRate = spec[5]; c.weightDecay = spec[6]; c.gradClip = spec[7]
        c.warmupRatio = spec[8]; c.shuffle = false
        c.outDir = out.path; c.saveInterval = 0
        return Setup(data: PretrainData(sequences: sequences, padId: 0), W: try f.tensor("bigram.init.W").copy(),
                     b: try f.tensor("bigram.init.b").copy(), config: c, f: f)
    }

    /// Twenty optimizer steps (partial last step of an epoch, clipping, warmup) follow PyTorch's
    /// losses, gradient norms and learning rates within 1e-5 relative, and the final weights within 1e-4.
    func testTrajectoryMatchesPyTorch() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let s = try setup(out)
        let model = BigramModel(W: s.W, b: s.b)
        let trainer = Pretrainer(config: s.config, model: model, data: s.data)
        let metrics = try trainer.run()
        let losses = try s.f.doubles("bigram.losses"), norms = try s.f.doubles("bigram.grad_norms"), lrs = try s.f.doubles("bigram.lrs")
        XCTAssertEqual(metrics.count, 20)
        XCTAssertEqual(trainer.totalSteps, 24)
        for (i, m) in metrics.enumerated() {
            XCTAssertEqual(m.step, i + 1)
            XCTAssertEqual(m.loss, losses[i], accuracy: abs(losses[i]) * 1e-5, "loss of step \(i + 1)")
            XCTAssertEqual(m.gradNorm, norms[i], accuracy: abs(norms[i]) * 1e-5, "grad norm of step \(i + 1)")
            XCTAssertEqual(m.lr, lrs[i], accuracy: abs(lrs[i]) * 1e-12, "lr of step \(i + 1)")
        }
        XCTAssertTrue(norms.contains { $0 > s.config.gradClip } && norms.contains { $0 < s.config.gradClip }, "the fixture should clip some steps and not others")
        assertClose(model.W.array, try s.f.tensor("bigram.final.W").array, rel: 1e-4, "final W")
        assertClose(model.b.array, try s.f.tensor("bigram.final.b").array, rel: 1e-4, "final b")
        // metrics.jsonl holds the same losses, exactly.
        XCTAssertEqual(try metricsLosses(out), metrics.map(\.loss))
    }

    /// Stopped at step 7 (max_steps) and resumed, the run writes the same losses bit for bit as the
    /// uninterrupted run, with shuffling and several epochs.
    func testResumeIsExact() throws {
        let full = try temporaryDirectory(), split = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: full); try? FileManager.default.removeItem(at: split) }
        var s = try setup(full)
        s.config.shuffle = true; s.config.seed = 7; s.config.maxSteps = nil; s.config.saveInterval = 5
        try Pretrainer(config: s.config, model: BigramModel(W: s.W.copy(), b: s.b.copy()), data: s.data).run()
        let expected = try metricsLosses(full)
        XCTAssertEqual(expected.count, 24)

        var first = s.config
        first.outDir = split.path; first.maxSteps = 7
        try Pretrainer(config: first, model: BigramModel(W: s.W.copy(), b: s.b.copy()), data: s.data).run()
        XCTAssertEqual(try metricsLosses(split).count, 7)
        var second = first
        second.maxSteps = nil; second.resume = true
        // A fresh model: everything must come from the checkpoint.
        let resumed = BigramModel(W: Tensor(zeros: s.W.shape), b: Tensor(zeros: s.b.shape))
        try Pretrainer(config: second, model: resumed, data: s.data).run()
        XCTAssertEqual(try metricsLosses(split), expected)
    }

    /// A save that fails after the temporary file is started leaves the previous checkpoint whole.
    func testFailedSaveKeepsPreviousCheckpoint() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var s = try setup(out)
        s.config.maxSteps = 3
        let trainer = Pretrainer(config: s.config, model: BigramModel(W: s.W, b: s.b), data: s.data)
        try trainer.run()
        let before = try Data(contentsOf: trainer.checkpointURL)
        // Once step 4 is done, cap the size of files this process may write (RLIMIT_FSIZE) below the
        // checkpoint's, so the save that follows fails midway with EFBIG.
        let limit = 1024, fileSize = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
        XCTAssertGreaterThan(before.count, 2 * limit)
        var saved = rlimit()
        getrlimit(fileSize, &saved)
        let savedSignal = signal(SIGXFSZ, SIG_IGN)
        defer { setrlimit(fileSize, &saved); signal(SIGXFSZ, savedSignal) }
        s.config.maxSteps = 4; s.config.resume = true
        let second = Pretrainer(config: s.config, model: BigramModel(W: s.W, b: s.b), data: s.data)
        second.progress = { _ in var cap = rlimit(rlim_cur: rlim_t(limit), rlim_max: saved.rlim_max); setrlimit(fileSize, &cap) }
        XCTAssertThrowsError(try second.run()) { XCTAssertTrue("\($0)".contains("File too large"), "\($0)") }
        setrlimit(fileSize, &saved)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.config.checkpointDirectory), [TrainingCheckpoint.fileName])
        XCTAssertEqual(try Data(contentsOf: trainer.checkpointURL), before)
        let c = try TrainingCheckpoint.read(from: trainer.checkpointURL)
        XCTAssertEqual(c.step, 3)
        XCTAssertEqual(c.parameters["W"]?.shape, [11, 11])
        XCTAssertEqual(c.expAvgSq["b"]?.shape, [11])
    }

    /// Resuming with a setting that changes the data order or the schedule is refused, naming the key.
    func testResumeRefusesChangedSettings() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var s = try setup(out)
        s.config.maxSteps = 2
        try Pretrainer(config: s.config, model: BigramModel(W: s.W, b: s.b), data: s.data).run()
        s.config.resume = true; s.config.batchSize = 3
        XCTAssertThrowsError(try Pretrainer(config: s.config, model: BigramModel(W: s.W, b: s.b), data: s.data).run()) {
            XCTAssertTrue("\($0)".contains("training.batch_size"), "\($0)")
        }
    }

    func metricsLosses(_ out: URL) throws -> [Double] {
        let text = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertNotNil(o["tokens_per_sec"]); XCTAssertNotNil(o["lr"]); XCTAssertNotNil(o["step"])
            // Parse the loss from the text itself: JSONSerialization may round through NSNumber.
            let field = line.split(separator: ",").first { $0.hasPrefix("\"loss\":") }!
            return Double(field.dropFirst(7))!
        }
    }
}
