import Encoders
import Foundation
import SafeTensors
import TestSupport
import XCTest

/// `explicitlm embed` run as a process on the tiny model: its vectors equal the library's, and bad
/// input fails with a message naming the file and line.
final class EmbedCommandTests: XCTestCase {
    func run(_ arguments: [String]) throws -> CommandLineRunner.Result { try CommandLineRunner.run(arguments) }

    func testTextPrintsTheEmbedding() throws {
        let result = try run(["embed", "--model", EncoderFixtures.tinyBert.path, "--text", "Paris is the capital of France."])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: [Double]]
        let printed = object["embedding"]!.map(Float.init)
        let expected = try BertEncoder.load(directory: EncoderFixtures.tinyBert).embed(["Paris is the capital of France."])[0]
        XCTAssertEqual(printed, expected)  // shortest round-trip printing is exact
    }

    func testInputFileWritesEmbeddings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("explicitlm-embed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let texts = (0..<37).map { "fact \($0): the river flows through city \($0 % 5)" } + ["北京", "naïve \"quoted\""]
        let lines = try texts.map { String(decoding: try JSONSerialization.data(withJSONObject: ["text": $0]), as: UTF8.self) }
        let input = dir.appendingPathComponent("in.jsonl"), output = dir.appendingPathComponent("out.safetensors")
        try (lines.joined(separator: "\n") + "\n\n").write(to: input, atomically: true, encoding: .utf8)
        let result = try run(["embed", "--model", EncoderFixtures.tinyBert.path, "--input", input.path,
                              "--out", output.path, "--batch-size", "8"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("\(texts.count)/\(texts.count)"), "progress: \(result.stderr)")
        let embeddings = try SafeTensorsFile(url: output).tensor("embeddings")
        XCTAssertEqual(embeddings.shape, [texts.count, 32])
        let expected = try BertEncoder.load(directory: EncoderFixtures.tinyBert).embed(texts)
        // Batches of 8 here, 64 in the library: equal up to float32 summation order.
        let (worst, at) = maxAbsDifference(expected.flatMap { $0 }, embeddings.data)
        XCTAssertLessThan(worst, 1e-6, "differs by \(worst) at \(at)")

        try "{\"text\": \"ok\"}\n{\"txt\": \"no\"}\n".write(to: input, atomically: true, encoding: .utf8)
        let bad = try run(["embed", "--model", EncoderFixtures.tinyBert.path, "--input", input.path, "--out", output.path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("in.jsonl:2: key 'text'"), bad.stderr)
    }
}
