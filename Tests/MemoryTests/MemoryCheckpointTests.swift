import Compute
import Foundation
import Memory
import Qwen3
import SafeTensors
import TestSupport
import XCTest

/// The §11 memory checkpoint: names, metadata, round trip, and strict loading.
final class MemoryCheckpointTests: TemporaryDirectoryTestCase {
    func testTheFixturesLoadWithTheSettingsOfTheirMetadataAndShapes() throws {
        let backbone = try MemoryFixtures.backbone()
        let cross = try MemoryFixtures.memory("cross-attention-rank4", backbone: backbone)
        XCTAssertEqual(cross.config.fusion, .crossAttention); XCTAssertEqual(cross.config.fusionRank, 4)
        XCTAssertEqual(cross.config.fusionHeads, 2); XCTAssertEqual(cross.config.fusionHeadDim, 8)
        XCTAssertEqual(cross.config.memoryLayers, [0, 2]); XCTAssertEqual(cross.config.knowledgeLength, 6)
        XCTAssertEqual(cross.config.numCandidates, 4); XCTAssertEqual(cross.config.gumbelTemperature, 0.5)
        XCTAssertEqual(cross.config.retriever, .lexical)
        let swiglu = try MemoryFixtures.memory("swiglu-full", backbone: backbone)
        XCTAssertEqual(swiglu.config.fusion, .swiglu); XCTAssertEqual(swiglu.config.fusionRank, 0)
        XCTAssertEqual(swiglu.config.fusionIntermediate, 32)
        XCTAssertEqual(Set(swiglu.parameters.map(\.name)), Set(try SafeTensorsFile(url: MemoryFixtures.url("swiglu-full", "memory.safetensors")).names))
    }

    func testSaveThenLoadGivesTheSameTensorsAndMetadata() throws {
        let backbone = try MemoryFixtures.backbone()
        for name in MemoryFixtures.cases {
            let memory = try MemoryFixtures.memory(name, backbone: backbone)
            let url = work.appendingPathComponent("\(name).safetensors")
            try memory.save(to: url)
            let file = try SafeTensorsFile(url: url)
            XCTAssertEqual(file.metadata, try SafeTensorsFile(url: MemoryFixtures.url(name, "memory.safetensors")).metadata, name)
            let again = try MemoryModel.load(url: url, backbone: backbone)
            XCTAssertEqual(again.config, memory.config)
            for (a, b) in zip(again.parameters, memory.parameters) {
                XCTAssertEqual(a.name, b.name); XCTAssertEqual(a.value.array, b.value.array, a.name)
            }
        }
    }

    /// Rewrites the cross-attention fixture with one change and expects `message` in the error.
    func assertRefused(_ message: String, metadata change: (inout [String: String]) -> Void = { _ in },
                       tensors edit: (inout [(String, Tensor)]) -> Void = { _ in }, file: StaticString = #filePath, line: UInt = #line) throws {
        let backbone = try MemoryFixtures.backbone()
        let memory = try MemoryFixtures.memory("cross-attention-full", backbone: backbone)
        var tensors = memory.parameters.map { ($0.name, $0.value) }
        var metadata = memory.checkpointMetadata
        change(&metadata)
        edit(&tensors)
        var writer = SafeTensorsWriter()
        for (n, t) in tensors { writer.add(n, t) }
        let url = work.appendingPathComponent("bad.safetensors")
        try writer.write(to: url, metadata: metadata)
        XCTAssertThrowsError(try MemoryModel.load(url: url, backbone: backbone), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(message), "\(error)", file: file, line: line)
        }
    }

    func testAMissingUnexpectedOrMisshapenTensorIsNamed() throws {
        try assertRefused("missing tensor memory.layers.2.fusion.v_proj.weight", tensors: { $0.removeAll { $0.0 == "memory.layers.2.fusion.v_proj.weight" } })
        try assertRefused("unexpected tensor memory.layers.0.fusion.gate_proj.weight", tensors: {
            $0.append(("memory.layers.0.fusion.gate_proj.weight", Tensor(zeros: [32, 64])))
        })
        try assertRefused("unexpected tensor memory.layers.1.norm.weight", tensors: { $0.append(("memory.layers.1.norm.weight", Tensor(zeros: [32]))) })
        try assertRefused("tensor memory.layers.0.fusion.position has shape [5, 16], expected [6, 16]", tensors: {
            let i = $0.firstIndex { $0.0 == "memory.layers.0.fusion.position" }!
            $0[i].1 = Tensor(zeros: [5, 16])
        })
        try assertRefused("tensor memory.layers.2.alpha.fc1.weight has shape [4, 1], expected [8, 1]", tensors: {
            let i = $0.firstIndex { $0.0 == "memory.layers.2.alpha.fc1.weight" }!
            $0[i].1 = Tensor(zeros: [4, 1])
        })
    }

    func testBadMetadataIsNamed() throws {
        try assertRefused("format \"other\" is not \"explicitlm-memory\"", metadata: { $0["format"] = "other" })
        try assertRefused("version \"2\" is not 1", metadata: { $0["version"] = "2" })
        try assertRefused("__metadata__ has no \"num_candidates\"", metadata: { $0["num_candidates"] = nil })
        try assertRefused("model.memory_layers: 3 is not a decoder layer", metadata: { $0["memory_layers"] = "0,3" })
        try assertRefused("fusion \"mlp\" is not one of", metadata: { $0["fusion"] = "mlp" })
        // Layer 1's tensors are not in the file.
        try assertRefused("missing tensor memory.layers.1.norm.weight", metadata: { $0["memory_layers"] = "0,1,2" })
    }

    /// Under the dense retriever the MemoryGate is saved per layer or shared, and read back with its
    /// sharing, rank and K from its tensors; under lexical its tensors are unexpected.
    func testDenseCheckpointsCarryTheMemoryGate() throws {
        let backbone = try MemoryFixtures.backbone()
        let base = try MemoryFixtures.memory("cross-attention-full", backbone: backbone).config
        for (share, rank) in [(false, 0), (true, 4)] {
            var config = base
            config.retriever = .dense
            config.knowledgeDim = 6
            config.shareGate = share
            config.gateRank = rank
            let memory = try MemoryModel(config: config, backbone: backbone)
            memory.initialize(seed: 5)
            let names = memory.parameters.map(\.name).filter { $0.contains("gate.") }
            XCTAssertEqual(names.count, (share ? 1 : 2) * (rank > 0 ? 25 : 19), "\(names)")
            XCTAssertTrue(names.contains(share ? "memory.gate.logit_scale" : "memory.layers.2.gate.logit_scale"))
            XCTAssertTrue(names.contains(share ? "memory.gate.out_proj.b" : "memory.layers.0.gate.out_proj.weight"))
            let url = work.appendingPathComponent("dense.safetensors")
            try memory.save(to: url)
            let again = try MemoryModel.load(url: url, backbone: backbone)
            XCTAssertEqual(again.config, memory.config)
            XCTAssertEqual(again.parameters.map(\.name), memory.parameters.map(\.name))
            for (a, b) in zip(again.parameters, memory.parameters) { XCTAssertEqual(a.value.array, b.value.array, a.name) }
        }
        try assertRefused("unexpected tensor memory.gate.logit_scale", tensors: { $0.append(("memory.gate.logit_scale", Tensor(zeros: []))) })
        var config = base
        config.retriever = .dense
        XCTAssertThrowsError(try MemoryModel(config: config, backbone: backbone)) { XCTAssertTrue("\($0)".contains("model.knowledge_dim is not set")) }
    }
}

