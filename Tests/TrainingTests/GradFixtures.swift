import Compute
import Foundation
import Qwen3
import SafeTensors
import Training
import XCTest

/// The tiny random checkpoints and PyTorch autograd's gradients made by scripts/make_grad_fixtures.py.
enum GradFixtures {
    /// The long variants' rows (141 tokens) span three causal attention blocks of 64, the last
    /// partial; long-gqa has two kv groups (split over workers), long-mqa one (the single-worker path).
    static let variants = ["tied-gqa", "untied-bias-gqa", "long-gqa", "long-mqa"]

    static func directory(_ variant: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(variant)
    }

    static func golden(_ variant: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(url: directory(variant).appendingPathComponent("golden.safetensors"))
    }

    /// The fixture's batch: B rows of T tokens with targets (−100 on prompts and pads).
    static func batch(_ golden: SafeTensorsFile) throws -> TokenBatch {
        let shape = golden.entry("input_ids")!.shape
        let ids = try golden.int32s("input_ids"), targets = try golden.int32s("targets")
        let T = shape[1]
        return TokenBatch(inputs: (0..<shape[0]).map { Array(ids[($0 * T)..<(($0 + 1) * T)]) },
                          targets: (0..<shape[0]).map { Array(targets[($0 * T)..<(($0 + 1) * T)]) })
    }

    /// The decoder layer after which the frozen-mode module sits, when the variant has one.
    static func frozenLayer(_ variant: String) throws -> Int? {
        try frozenSpec(variant)?["after_layer"] as? Int
    }

    /// The layers of the several-modules check.
    static func multiLayers(_ variant: String) throws -> [Int] {
        try frozenSpec(variant)?["multi"] as? [Int] ?? []
    }

    static func frozenSpec(_ variant: String) throws -> [String: Any]? {
        let url = directory(variant).appendingPathComponent("frozen.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
    }
}

/// ‖a − b‖ / ‖b‖ over whole tensors, in Double.
func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.count == b.count)
    var diff = 0.0, norm = 0.0
    for i in 0..<a.count {
        let x = Double(a.data[i]), y = Double(b.data[i])
        diff += (x - y) * (x - y)
        norm += y * y
    }
    return (diff / max(norm, 1e-300)).squareRoot()
}
