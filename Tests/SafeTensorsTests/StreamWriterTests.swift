import Compute
import Foundation
import SafeTensors
import XCTest

/// The streaming writer produces exactly the bytes of SafeTensorsWriter and reads back.
final class StreamWriterTests: XCTestCase {
    func testSameBytesAsSafeTensorsWriter() throws {
        let a = Tensor(shape: [2, 3], values: [1, -2, 3.5, 0, 1e-30, 7])
        let b = Tensor(shape: [5], values: [9, 8, 7, 6, 5])
        let empty = Tensor(zeros: [0, 4])
        let meta = ["format": "pt", "step": "12", "quote": "a \"b\"\n"]
        var reference = SafeTensorsWriter()
        reference.add("z.weight", a); reference.add("a.norm", b); reference.add("e", empty)
        reference.add("order", int64s: [3, 1, 2], shape: [3])
        var stream = SafeTensorsStreamWriter()
        stream.add("z.weight", a); stream.add("a.norm", b); stream.add("e", empty)
        stream.add("order", int64s: [3, 1, 2], shape: [3])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("x.safetensors")
        try stream.write(to: url, metadata: meta)
        XCTAssertEqual([UInt8](try Data(contentsOf: url)), try reference.serialized(metadata: meta))
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(try file.tensor("z.weight").array, a.array)
        XCTAssertEqual(try file.int64s("order"), [3, 1, 2])
        XCTAssertEqual(file.metadata["step"], "12")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["x.safetensors"])
    }

    func testDuplicateNameIsAnError() {
        var stream = SafeTensorsStreamWriter()
        stream.add("w", Tensor(zeros: [1])); stream.add("w", Tensor(zeros: [1]))
        XCTAssertThrowsError(try stream.write(to: URL(fileURLWithPath: "/tmp/never-\(UUID().uuidString)"))) {
            XCTAssertTrue("\($0)".contains("added twice"), "\($0)")
        }
    }
}
