import Encoders
import Foundation
import SafeTensors
import XCTest

/// all-MiniLM-L6-v2 (installed by scripts/install-test-models.sh) against transformers BertModel +
/// mean pooling + L2 normalisation (sentence-transformers semantics) on 256 sentences, some
/// truncated at max_seq_length 256. Tolerance: 1e-5 max abs per component.
final class MiniLMTests: XCTestCase {
    func testEmbeddingsMatchReference() throws {
        let dir = try EncoderFixtures.miniLM()
        let encoder = try BertEncoder.load(directory: dir)
        XCTAssertEqual(encoder.dimension, 384)
        XCTAssertEqual(encoder.maxLength, 256)
        XCTAssertEqual(encoder.sentenceConfig.pooling, .mean)
        XCTAssertTrue(encoder.sentenceConfig.normalize)
        let sentences = try EncoderFixtures.texts().minilm
        XCTAssertTrue(sentences.contains { encoder.tokenize($0).count == 256 }, "the set should reach truncation")
        let expected = try SafeTensorsFile(url: EncoderFixtures.directory.appendingPathComponent("minilm-embeddings.safetensors"))
            .tensor("embeddings")
        XCTAssertEqual(expected.shape, [sentences.count, 384])
        encoder.batchSize = 32
        let vectors = try encoder.embed(sentences)
        var worst: Float = 0, worstText = 0
        for (i, v) in vectors.enumerated() {
            let (d, _) = maxAbsDifference(v, expected.row(i))
            if !(d <= worst) { worst = d; worstText = i }
        }
        print("all-MiniLM-L6-v2: max abs difference \(worst) over \(sentences.count) sentences")
        XCTAssertLessThan(worst, 1e-5, "max abs difference \(worst) on sentence \(worstText): \(sentences[worstText].prefix(80))")
    }
}
