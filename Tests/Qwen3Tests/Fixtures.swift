import Compute
import Foundation
import Qwen3
import SafeTensors
import XCTest

/// The tiny random checkpoints and transformers' answers made by scripts/make_qwen3_fixtures.py.
enum Fixtures {
    /// long-gqa-f32's prompt (197 tokens) spans four causal attention blocks of 64, the last partial.
    static let variants = ["tied-mha-f32", "untied-gqa-bf16", "sharded-bias-f32", "long-gqa-f32"]

    static func directory(_ variant: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(variant)
    }

    struct Golden {
        let inputIds: [Int32], logits: Tensor, prompt: [Int32], generated: [Int32]
    }

    static func golden(_ variant: String) throws -> Golden {
        let file = try SafeTensorsFile(url: directory(variant).appendingPathComponent("golden.safetensors"))
        return Golden(inputIds: try file.int32s("input_ids"), logits: try file.tensor("logits"),
                      prompt: try file.int32s("prompt"), generated: try file.int32s("generated"))
    }
}

/// Largest |a − b| over the first `count` elements, with the first index where it happens.
func maxAbsDifference(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> (Float, Int) {
    var worst: Float = 0, at = 0
    for i in 0..<count {
        let d = abs(a[i] - b[i])
        if !(d <= worst) { worst = d; at = i }  // NaN counts as worst
    }
    return (worst, at)
}
