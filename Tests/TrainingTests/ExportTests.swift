import Foundation
import Qwen3
import Training
import XCTest

/// `Qwen3Export` publishes a model directory with one rename: it replaces an earlier model wholesale,
/// and refuses a target that is not a directory or holds files that are not a model's.
final class ExportTests: XCTestCase {
    func entries(_ url: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() }

    func testExportReplacesAModelDirectoryWholesale() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try Qwen3Model.load(directory: PretrainQwen3Tests.directory)
        let exported = dir.appendingPathComponent("nested/export")
        try Qwen3Export.save(model, to: exported)
        XCTAssertEqual(try entries(exported), ["config.json", "model.safetensors"])
        // An older model's shard stays behind in no mix: the whole directory is exchanged.
        try Data("stale".utf8).write(to: exported.appendingPathComponent("model-00001-of-00002.safetensors"))
        let tokenizer = dir.appendingPathComponent("my-tokenizer.json")
        try Data("{}".utf8).write(to: tokenizer)
        try Qwen3Export.save(model, to: exported, copying: ["tokenizer.json": tokenizer])
        XCTAssertEqual(try entries(exported), ["config.json", "model.safetensors", "tokenizer.json"])
        XCTAssertEqual(try String(contentsOf: exported.appendingPathComponent("tokenizer.json"), encoding: .utf8), "{}")
        XCTAssertEqual(try Qwen3Model.load(directory: exported).config, model.config)
        XCTAssertEqual(try entries(exported.deletingLastPathComponent()), ["export"])  // no temporary directory left
    }

    func testExportRefusesTargetsThatAreNotAModelDirectory() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try Qwen3Model.load(directory: PretrainQwen3Tests.directory)
        let project = dir.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: false)
        for name in ["config.json", "train.jsonl"] { try Data(name.utf8).write(to: project.appendingPathComponent(name)) }
        let file = dir.appendingPathComponent("file")
        try Data("keep".utf8).write(to: file)
        for (target, expected) in [(project, "\(project.path): holds train.jsonl, which is not a model file"),
                                   (file, "\(file.path): is a regular file, not a directory")] {
            XCTAssertThrowsError(try Qwen3Export.checkTarget(target)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
            XCTAssertThrowsError(try Qwen3Export.save(model, to: target)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
        XCTAssertEqual(try entries(project), ["config.json", "train.jsonl"])
        XCTAssertEqual(try String(contentsOf: project.appendingPathComponent("config.json"), encoding: .utf8), "config.json")
        XCTAssertEqual(try entries(dir), ["file", "project"])
    }
}
