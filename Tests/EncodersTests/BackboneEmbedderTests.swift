import Encoders
import Foundation
import SafeTensors
import TestSupport
import XCTest

/// The backbone embedder (method.md §3) on the tiny Qwen3 fixture against transformers: mean over
/// the tokens of Qwen3Model's last_hidden_state (after the final norm), L2-normalised. 1e-5 max abs.
final class BackboneEmbedderTests: XCTestCase {
    func testMatchesTransformers() throws {
        let golden = try SafeTensorsFile(url: EncoderFixtures.directory.appendingPathComponent("backbone-golden.safetensors"))
        let ids = try golden.int32s("ids")
        let expected = try golden.tensor("embedding")
        // The text encoder stands in for the Qwen3 tokenizer: every text maps to the golden ids.
        let embedder = try makeEmbedder(path: EncoderFixtures.qwen3Tiny, textEncoder: { _ in ids })
        XCTAssertTrue(embedder is BackboneEmbedder)
        XCTAssertEqual(embedder.dimension, expected.count)
        let vectors = try embedder.embed(["a", "b"])
        XCTAssertEqual(vectors.count, 2)
        let (worst, at) = maxAbsDifference(vectors[0], expected.data)
        XCTAssertLessThan(worst, 1e-5, "differs by \(worst) at \(at)")
        XCTAssertEqual(vectors[0], vectors[1])
    }

    func testErrorsNameTheProblem() throws {
        XCTAssertTrue(thrownMessage { _ = try makeEmbedder(path: EncoderFixtures.qwen3Tiny) }.contains("tokenizer.json"))
        let embedder = try makeEmbedder(path: EncoderFixtures.qwen3Tiny, textEncoder: { _ in [] })
        XCTAssertTrue(thrownMessage { _ = try embedder.embed(["empty"]) }.contains("text 0 has no tokens"))
        let message = thrownMessage { _ = try makeEmbedder(path: EncoderFixtures.directory) }
        XCTAssertTrue(message.contains("config.json"), message)
    }

    /// Without a text encoder the directory's tokenizer.json is used: the genuine Qwen3 tokenizer
    /// beside the tiny model gives ids beyond its 320-token vocabulary, which the embedder names.
    func testUsesTheDirectoryTokenizer() throws {
        let tokenizer = EncoderFixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/testdata/qwen3-tokenizer/tokenizer.json")
        guard FileManager.default.fileExists(atPath: tokenizer.path) else {
            throw XCTSkip("../shared/testdata/qwen3-tokenizer/tokenizer.json is absent (the shared test data)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("explicitlm-backbone-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: EncoderFixtures.qwen3Tiny, to: dir)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: tokenizer, to: dir.appendingPathComponent("tokenizer.json"))
        let embedder = try makeEmbedder(path: dir)
        XCTAssertTrue(embedder is BackboneEmbedder)
        let message = thrownMessage { _ = try embedder.embed(["Hello world"]) }
        XCTAssertTrue(message.contains("outside the vocabulary of 320"), message)
    }
}
