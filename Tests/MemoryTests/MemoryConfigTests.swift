import Memory
import Qwen3
import XCTest

/// The method's defaults (method.md §0) and the errors for settings it cannot run with.
final class MemoryConfigTests: XCTestCase {
    func testDefaultsAreTheMethods() throws {
        let c = MemoryConfig()
        XCTAssertEqual(c.knowledgeNum, 1_048_576); XCTAssertEqual(c.gridSide, 1024); XCTAssertEqual(c.halfTopK, 128)
        XCTAssertEqual(c.knowledgeLength, 16); XCTAssertEqual(c.numCandidates, 16); XCTAssertEqual(c.gumbelTemperature, 0.1)
        XCTAssertEqual(c.retriever, .lexical); XCTAssertEqual(c.fusion, .crossAttention)
        XCTAssertEqual(c.fusionHeads, 8); XCTAssertEqual(c.fusionHeadDim, 64); XCTAssertEqual(c.gateRank, 128); XCTAssertEqual(c.fusionRank, 128)
        XCTAssertEqual(c.counterfactualSwap, 1.0)
        var backbone = Qwen3Config()
        backbone.numHiddenLayers = 4
        XCTAssertEqual(c.layers(of: backbone), [0, 1, 2, 3])
        XCTAssertNoThrow(try c.validate(backbone: backbone))
        var small = c
        small.knowledgeNum = 16
        XCTAssertEqual(small.halfTopK, 4)
    }

    func testBadSettingsNameTheKey() {
        var backbone = Qwen3Config()
        backbone.numHiddenLayers = 4
        let cases: [(WritableKeyPath<MemoryConfig, Int>, Int, String)] = [
            (\.knowledgeNum, 1000, "model.knowledge_num: 1000 is not a perfect square"),
            (\.knowledgeNum, 0, "model.knowledge_num: 0 must be in"),
            (\.knowledgeLength, 0, "model.knowledge_length"),
            (\.numCandidates, 0, "training.num_candidates"),
            (\.fusionHeads, -1, "model.fusion_heads"),
            (\.gateRank, -2, "model.gate_rank: -2 must be 0 (full rank)"),
        ]
        for (key, value, expected) in cases {
            var c = MemoryConfig()
            c[keyPath: key] = value
            XCTAssertThrowsError(try c.validate(backbone: backbone)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
        for (layers, expected) in [([4], "4 is not a decoder layer"), ([2, 1], "must be increasing"), ([], "empty")] {
            var c = MemoryConfig()
            c.memoryLayers = layers
            XCTAssertThrowsError(try c.validate(backbone: backbone)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
        var c = MemoryConfig()
        c.knowledgeDim = 7
        XCTAssertThrowsError(try c.validate(backbone: backbone)) { XCTAssertTrue("\($0)".contains("model.knowledge_dim: 7 must be even"), "\($0)") }
    }
}
