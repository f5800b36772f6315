import Encoders
import Foundation
import SafeTensors
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

    func testQwen3WithoutTokenizerIsRefused() {
        XCTAssertTrue(thrownMessage { _ = try makeEmbedder(path: EncoderFixtures.qwen3Tiny) }.contains("Qwen3 tokenizer"))
        let embedder = try? makeEmbedder(path: EncoderFixtures.qwen3Tiny, textEncoder: { _ in [] })
        XCTAssertTrue(thrownMessage { _ = try embedder?.embed(["empty"]) }.contains("no tokens"))
    }
}
