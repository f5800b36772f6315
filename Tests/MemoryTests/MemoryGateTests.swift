import Compute
import Foundation
import Memory
import SafeTensors
import XCTest

/// The MemoryGate and the router loss against PyTorch (scripts/make_gate_fixtures.py, float64
/// reference): scores, loss and the gradient of every gate tensor and of q̄, within 1e-4 relative.
final class MemoryGateTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/gate.safetensors")

    func testGateAndRouterLossMatchPyTorch() throws {
        let file = try SafeTensorsFile(url: Self.fixture)
        let keys = try file.tensor("keys")
        let cells = try file.int32s("targets.cells"), teacher = try file.tensor("targets.scores")
        let B = 3, k = cells.count / B
        let targets = (0..<B).map { b in
            RouterLoss.Target(cells: cells[(b * k)..<((b + 1) * k)].map(Int.init), scores: Array(teacher.array[(b * k)..<((b + 1) * k)]))
        }
        for (variant, rank) in [("full", 0), ("rank4", 4), ("clamped", 0)] {
            let gate = MemoryGate(hidden: 16, keyDim: 8, rank: rank)
            let parameters = gate.parameters("memory.gate")
            XCTAssertEqual(Set(parameters.map { String($0.name.dropFirst("memory.gate.".count)) }),
                           Set(file.names.filter { $0.hasPrefix("\(variant).param.") }.map { String($0.dropFirst("\(variant).param.".count)) }),
                           "\(variant): the §11 tensor names")
            for p in parameters {
                let saved = try file.tensor("\(variant).param.\(p.name.dropFirst("memory.gate.".count))")
                XCTAssertEqual(saved.count, p.value.count, p.name)
                p.value.data.update(from: saved.data, count: saved.count)
            }
            let query = try file.tensor("\(variant).query")
            let activations = gate.project(query)
            let scores = gate.scores(activations, keys: keys)
            assertClose(scores[0], try file.tensor("\(variant).S1"), "\(variant) S1")
            assertClose(scores[1], try file.tensor("\(variant).S2"), "\(variant) S2")
            let (loss, dScores) = RouterLoss.forwardBackward(scores: scores, targets: targets, temperature: 0.5)
            XCTAssertEqual(loss, Double(try file.tensor("\(variant).loss").data[0]), accuracy: 1e-5 * max(1, abs(loss)), "\(variant) loss")
            let dQuery = Tensor(zeros: query.shape)
            gate.backward(activations, dScores: dScores, keys: keys, dQ: dQuery.data)
            assertClose(dQuery, try file.tensor("\(variant).grad.query"), "\(variant) d query")
            for p in parameters {
                assertClose(p.grad, try file.tensor("\(variant).grad.\(p.name.dropFirst("memory.gate.".count))"), "\(variant) d \(p.name)")
            }
            if variant == "clamped" { XCTAssertEqual(gate.parameters("g").last!.grad.data[0], 0, "no gradient through the clamp") }
        }
    }

    /// Largest |a − b| / (|b| + 0.01·max|b|) must stay within `tolerance`: relative for every element
    /// of the tensor's own scale, while elements a hundred times smaller than its largest, which
    /// float32 reaches by cancellation (sums of ±10 giving 0.004 at s = 100), are held to 1e-6 of it.
    func assertClose(_ a: Tensor, _ b: Tensor, _ label: String, tolerance: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, label, file: file, line: line)
        var worst: Float = 0, at = 0
        let scale = max(1e-6, b.array.map(abs).max() ?? 0) * 1e-2
        for i in 0..<min(a.count, b.count) {
            let e = abs(a.data[i] - b.data[i]) / (abs(b.data[i]) + scale)
            if !(e <= worst) { worst = e; at = i }
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(label): relative error \(worst) at \(at): \(a.data[at]) vs \(b.data[at]), max |b| \(b.array.map(abs).max() ?? 0)", file: file, line: line)
    }
}
