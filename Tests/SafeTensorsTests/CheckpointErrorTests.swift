import Compute
import Foundation
import SafeTensors
import XCTest

/// A model directory whose index and shards disagree gets an error naming the index file and the key.
final class CheckpointErrorTests: XCTestCase {
    private let shard1 = "model-00001-of-00002.safetensors", shard2 = "model-00002-of-00002.safetensors"

    /// A copy of the committed sharded checkpoint with `index` as its index file.
    private func directory(index: String) throws -> (dir: URL, index: URL) {
        let dir = try temporaryDirectory(self)
        for shard in [shard1, shard2] {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent("sharded/\(shard)"), to: dir.appendingPathComponent(shard))
        }
        let url = dir.appendingPathComponent("model.safetensors.index.json")
        try Data(index.utf8).write(to: url)
        return (dir, url)
    }

    private func weightMap(_ pairs: [(String, String)]) -> String {
        "{\"metadata\":{},\"weight_map\":{" + pairs.map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",") + "}}"
    }

    private var goodPairs: [(String, String)] {
        [("model.embed_tokens.weight", shard1), ("model.layers.0.mlp.up_proj.weight", shard1),
         ("model.layers.0.input_layernorm.weight", shard2), ("model.norm.weight", shard2)]
    }

    func testTheGoodIndexLoads() throws {
        let (dir, _) = try directory(index: weightMap(goodPairs))
        XCTAssertEqual(try SafeTensorsCheckpoint(directory: dir).names.count, 4)
    }

    func testMissingShard() throws {
        var pairs = goodPairs
        pairs[3].1 = "model-00003-of-00003.safetensors"
        let (dir, index) = try directory(index: weightMap(pairs))
        assertThrows([index.path, "weight_map[\"model.norm.weight\"]", "shard file \"model-00003-of-00003.safetensors\" does not exist"]) {
            _ = try SafeTensorsCheckpoint(directory: dir)
        }
    }

    func testTensorListedButAbsentFromItsShard() throws {
        let (dir, index) = try directory(index: weightMap(goodPairs + [("lm_head.weight", shard2)]))
        assertThrows([index.path, "weight_map[\"lm_head.weight\"]", "not in its shard \"\(shard2)\""]) {
            _ = try SafeTensorsCheckpoint(directory: dir)
        }
    }

    func testTensorInAShardButNotListed() throws {
        let (dir, index) = try directory(index: weightMap(Array(goodPairs.dropLast())))
        assertThrows([index.path, "shard \"\(shard2)\" holds tensor \"model.norm.weight\" that weight_map does not list"]) {
            _ = try SafeTensorsCheckpoint(directory: dir)
        }
    }

    func testBadIndexFiles() throws {
        let cases: [(String, String)] = [
            ("{\"weight_map\":", "not valid JSON"),
            ("[]", "not a JSON object"),
            ("{\"metadata\":{}}", "missing key \"weight_map\""),
            ("{\"weight_map\":[]}", "\"weight_map\" is an array, not an object"),
            ("{\"weight_map\":{\"a\":1}}", "weight_map[\"a\"] is a number, not a file name"),
            ("{\"weight_map\":{\"a\":\"../x.safetensors\"}}", "is not a file name in the model directory"),
            ("{\"weight_map\":{\"a\":\"x\",\"a\":\"y\"}}", "duplicate key \"a\""),
        ]
        for (text, problem) in cases {
            let (dir, index) = try directory(index: text)
            assertThrows([index.path, problem]) { _ = try SafeTensorsCheckpoint(directory: dir) }
        }
    }

    func testBadShardNamesTheShard() throws {
        let (dir, _) = try directory(index: weightMap(goodPairs))
        let shard = dir.appendingPathComponent(shard2)
        try Data([1, 2, 3]).write(to: shard)
        assertThrows([shard.path, "shorter than the 8-byte header length"]) { _ = try SafeTensorsCheckpoint(directory: dir) }
    }

    func testSingleFileAndEmptyDirectories() throws {
        let dir = try temporaryDirectory(self)
        assertThrows([dir.path, "no model.safetensors or model.safetensors.index.json"]) { _ = try SafeTensorsCheckpoint(directory: dir) }
        var w = SafeTensorsWriter()
        w.add("x", Tensor(shape: [2], values: [1, 2]), dtype: .bf16)
        try w.write(to: dir.appendingPathComponent("model.safetensors"))
        let ckpt = try SafeTensorsCheckpoint(directory: dir)
        XCTAssertEqual(ckpt.names, ["x"])
        XCTAssertEqual(ckpt.dtypes, [.bf16])
        XCTAssertEqual(try ckpt.tensor("x").array, [1, 2])
    }
}
