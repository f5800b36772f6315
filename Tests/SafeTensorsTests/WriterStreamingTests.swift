import Compute
import Foundation
import SafeTensors
import XCTest

/// `write` streams F32 tensors from their buffers; the file holds exactly the bytes of `serialized`.
final class WriterStreamingTests: XCTestCase {
    func testWrittenFileEqualsSerializedBytes() throws {
        let a = Tensor(shape: [2, 3], values: [1, -2, 3.5, 0, 1e-30, 7])
        let b = Tensor(shape: [5], values: [9, 8, 7, 6, 5])
        let empty = Tensor(zeros: [0, 4])
        let meta = ["format": "pt", "step": "12", "quote": "a \"b\"\n"]
        var writer = SafeTensorsWriter()
        writer.add("z.weight", a); writer.add("a.norm", b); writer.add("e", empty)
        writer.add("order", int64s: [3, 1, 2], shape: [3])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("x.safetensors")
        try writer.write(to: url, metadata: meta)
        XCTAssertEqual([UInt8](try Data(contentsOf: url)), try writer.serialized(metadata: meta))
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(try file.tensor("z.weight").array, a.array)
        XCTAssertEqual(try file.int64s("order"), [3, 1, 2])
        XCTAssertEqual(file.metadata["step"], "12")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["x.safetensors"])
    }

    func testDuplicateNameIsAnError() {
        var writer = SafeTensorsWriter()
        writer.add("w", Tensor(zeros: [1])); writer.add("w", Tensor(zeros: [1]))
        XCTAssertThrowsError(try writer.write(to: URL(fileURLWithPath: "/tmp/never-\(UUID().uuidString)"))) {
            XCTAssertTrue("\($0)".contains("added twice"), "\($0)")
        }
    }
}
