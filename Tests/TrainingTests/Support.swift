import Compute
import Foundation
import SafeTensors
import Training
import XCTest

/// Goldens written by scripts/make_optim_fixtures.py.
enum OptimFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func file() throws -> SafeTensorsFile {
        try SafeTensorsFile(url: directory.appendingPathComponent("optim.safetensors"))
    }
}

extension SafeTensorsFile {
    func doubles(_ name: String) throws -> [Double] {
        let raw = try bytes(name)
        return (0..<raw.count / 8).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self) }
    }
}

/// Largest |a − b| / (|b| + floor) over all elements, with its index.
func maxRelativeError(_ a: [Float], _ b: [Float], floor: Float = 1e-6) -> (Float, Int) {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) elements")
    var worst: Float = 0, at = 0
    for i in a.indices {
        let e = abs(a[i] - b[i]) / (abs(b[i]) + floor)
        if !(e <= worst) { worst = e; at = i }
    }
    return (worst, at)
}

func assertClose(_ a: [Float], _ b: [Float], rel: Float, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    let (e, i) = maxRelativeError(a, b)
    XCTAssertLessThanOrEqual(e, rel, "\(label): relative error \(e) at \(i): \(a[i]) vs \(b[i])", file: file, line: line)
}

/// A model small enough to differentiate by hand: logits[t] = W[x_t] + b. Stands in for Qwen3 in
/// the loop tests (W is 2-D and decays, b is 1-D and does not).
final class BigramModel: TrainableModel {
    let vocab: Int
    let W: Tensor, b: Tensor, gW: Tensor, gb: Tensor

    init(W: Tensor, b: Tensor) {
        vocab = b.count
        self.W = W; self.b = b
        gW = Tensor(zeros: W.shape); gb = Tensor(zeros: b.shape)
    }

    var parameters: [NamedParameter] { [("W", W, gW), ("b", b, gb)] }

    func zeroGradients() { gW.fill(0); gb.fill(0) }

    func accumulateGradients(inputs: [[Int32]], targets: [[Int32]], gradientScale: Float) -> (lossSum: Double, tokens: Int) {
        var loss = 0.0, tokens = 0
        var p = [Float](repeating: 0, count: vocab)
        for (row, labels) in zip(inputs, targets) {
            for (x, y) in zip(row, labels) where y != CrossEntropy.ignoreIndex {
                let w = W.row(Int(x))
                var top = -Float.infinity
                for v in 0..<vocab { p[v] = w[v] + b.data[v]; top = max(top, p[v]) }
                var sum: Float = 0
                for v in 0..<vocab { p[v] = exp(p[v] - top); sum += p[v] }
                loss += Double(log(sum) + top - (w[Int(y)] + b.data[Int(y)]))
                let gw = gW.row(Int(x))
                for v in 0..<vocab {
                    let d = (p[v] / sum - (v == Int(y) ? 1 : 0)) * gradientScale
                    gw[v] += d; gb.data[v] += d
                }
                tokens += 1
            }
        }
        return (loss, tokens)
    }
}

/// A fresh empty directory under the temporary directory.
func temporaryDirectory(_ name: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("explicitlm-\(name.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
