import Compute
import Foundation
import JSON
import TorchFormat
import XCTest

/// The files torch.save wrote (scripts/make_torch_fixtures.py) read back exactly as torch.load reads them.
final class ReferenceFileTests: XCTestCase {
    private func golden() throws -> [(String, JSONValue)] {
        let bytes = try fixtureBytes("expected.json")
        return try XCTUnwrap(JSONValue.parse(bytes).objectValue)
    }

    /// Every tensor of every accepted fixture: dtype, shape and every value bit for bit, through the
    /// memory-mapped reader and the bytes reader alike.
    func testEveryAcceptedFileMatchesTorch() throws {
        let files = try golden()
        XCTAssertEqual(files.count, 9)
        for (file, expected) in files {
            let url = fixtures.appendingPathComponent(file)
            for archive in [try TorchArchive.read(contentsOf: url), try TorchArchive(bytes: fixtureBytes(file), name: file)] {
                let one = try XCTUnwrap(expected["one"]?.boolValue)
                XCTAssertEqual(archive.holdsOneTensor, one, file)
                let tensors = try XCTUnwrap(expected["tensors"]?.objectValue)
                if !one {
                    XCTAssertEqual(archive.keys, try XCTUnwrap(expected["keys"]?.arrayValue).map { $0.stringValue ?? "?" }, file)
                }
                XCTAssertEqual(archive.tensors.count, tensors.count, file)
                for (key, e) in tensors {
                    let t = try archive.tensor(key)
                    let what = "\(file) \"\(key)\""
                    XCTAssertEqual(t.dtype.rawValue, e["dtype"]?.stringValue, what)
                    XCTAssertEqual(t.shape, try XCTUnwrap(e["shape"]?.arrayValue).compactMap(\.intValue), what)
                    if let bits = e["bits"]?.arrayValue {
                        let values = try t.float32()
                        XCTAssertEqual(values.shape, t.shape, what)
                        // Bit for bit, except that any NaN matches a NaN: torch widens the float16 NaN
                        // 0x7E00 to 0x7FFFFFFF, where the exact widening (ours) gives 0x7FC00000.
                        let expected = bits.compactMap { $0.intValue.map { UInt32($0) } }
                        XCTAssertEqual(expected.count, values.count, what)
                        for (v, e) in zip(values.array, expected) where !(v.isNaN && Float(bitPattern: e).isNaN) {
                            XCTAssertEqual(v.bitPattern, e, what)
                        }
                        assertThrows([file, "not an integer type"]) { _ = try t.int64s() }
                    } else {
                        let values = try XCTUnwrap(e["values"]?.arrayValue).compactMap { v -> Int64? in
                            guard case .number(let n) = v else { return nil }
                            return Int64(n)
                        }
                        XCTAssertEqual(try t.int64s(), values, what)
                        assertThrows([file, "not a floating-point type"]) { _ = try t.float32() }
                    }
                }
            }
        }
    }

    /// The reference implementation's two files: the bank cache and the grid keys.
    func testKnowledgeCacheAndKeys() throws {
        let cache = try TorchArchive.read(contentsOf: fixtures.appendingPathComponent("knowledge_cache.pt")).tensor()
        XCTAssertEqual(cache.dtype, .int64)
        XCTAssertEqual(cache.shape, [8, 5])
        XCTAssertTrue(cache.isContiguous)
        let ids = try cache.int64s()
        XCTAssertEqual(Array(ids[0..<2]), [Int64.min, Int64.max])
        XCTAssertEqual(ids[9], -1)

        let keys = try TorchArchive.read(contentsOf: fixtures.appendingPathComponent("keys.pt")).tensor()
        XCTAssertEqual(keys.dtype, .float32)
        XCTAssertEqual(try keys.float32().shape, [2, 4, 3])
    }

    func testViewsOfSharedStorages() throws {
        let a = try TorchArchive.read(contentsOf: fixtures.appendingPathComponent("views.pt"))
        let base = try a.tensor("base").float32().array  // arange(24) * 0.5 - 3, [4, 6]
        let transposed = try a.tensor("transposed")
        XCTAssertFalse(transposed.isContiguous)
        XCTAssertEqual(transposed.strides, [1, 6])
        let t = try transposed.float32()
        XCTAssertEqual(t.shape, [6, 4])
        for i in 0..<6 { for j in 0..<4 { XCTAssertEqual(t.array[i * 4 + j], base[j * 6 + i]) } }
        let row = try a.tensor("row")
        XCTAssertEqual(row.storageOffset, 12)
        XCTAssertEqual(try row.float32().array, Array(base[12..<18]))
        XCTAssertEqual(try a.tensor("slice").int64s(), [1, 8, 15, 22])  // (arange(10) * 7 - 20)[3:7]
        XCTAssertEqual(try a.tensor("every_other").strides, [2])
    }

    func testLoneTensorAndDictAccess() throws {
        let scalar = try TorchArchive.read(contentsOf: fixtures.appendingPathComponent("scalar.pt"))
        XCTAssertEqual(scalar.keys, [TorchArchive.loneKey])
        let s = try scalar.tensor()
        XCTAssertEqual(s.shape, [])
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(try s.float32().array, [3.25])
        assertThrows(["scalar.pt", "no tensor named \"x\"", "one tensor, not a dict"]) { _ = try scalar.tensor("x") }

        let dict = try TorchArchive.read(contentsOf: fixtures.appendingPathComponent("dict.pt"))
        assertThrows(["dict.pt", "holds a dict of 10 tensors, not one tensor"]) { _ = try dict.tensor() }
        XCTAssertEqual(try dict.tensor("empty").float32().shape, [0, 3])
        XCTAssertEqual(try dict.tensor("bool").int64s(), [1, 0, 1])
    }

    /// The tensors stay readable after the archive value is gone (they keep the mapping alive).
    func testTensorsOutliveTheArchive() throws {
        var t: TorchTensor?
        do { t = try TorchArchive.read(contentsOf: fixtures.appendingPathComponent("keys.pt")).tensor() }
        let values = try XCTUnwrap(t).float32()
        XCTAssertEqual(values.count, 24)
    }

    func testFilesThatAreNotArchives() throws {
        assertThrows(["/nonexistent/x.pt", "cannot open"]) { _ = try TorchArchive.read(contentsOf: URL(fileURLWithPath: "/nonexistent/x.pt")) }
        assertThrows([fixtures.path, "not a regular file"]) { _ = try TorchArchive.read(contentsOf: fixtures) }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString).pt")
        try Data().write(to: empty)
        defer { try? FileManager.default.removeItem(at: empty) }
        assertThrows([empty.path, "is 0 bytes, too short for a ZIP archive"]) { _ = try TorchArchive.read(contentsOf: empty) }
    }
}
