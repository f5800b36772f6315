import Compute
import Foundation
import SafeTensors
import XCTest

/// What we write, we read back unchanged; the writer refuses bad requests naming the tensor.
final class RoundTripTests: XCTestCase {
    func testEveryDTypeRoundTrips() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("all.safetensors")
        let floats: [Float] = [0, -0.0, 1, -2.5, 0.125, 1024, -0x1p-15, 7.75]  // exact in every float dtype
        var w = SafeTensorsWriter()
        for dtype in [SafeTensorsDType.f32, .bf16, .f16, .f64] {
            w.add("float/\(dtype.rawValue)", Tensor(shape: [2, 4], values: floats), dtype: dtype)
        }
        w.add("i32", int32s: [Int32.min, -1, 0, Int32.max], shape: [4])
        w.add("i64", int64s: [Int64.min, -1, 0, Int64.max, 5, 6], shape: [2, 3])
        w.add("i16", bytes: [Int16.min, 0, Int16.max].withUnsafeBytes { Array($0) }, shape: [3], dtype: .i16)
        w.add("i8", bytes: [0x80, 0xFF, 0x7F], shape: [3], dtype: .i8)
        w.add("u8", bytes: [0, 1, 255], shape: [1, 3], dtype: .u8)
        w.add("bool", bytes: [1, 0], shape: [2], dtype: .bool)
        w.add("scalar", Tensor(shape: [], values: [3.5]))
        w.add("empty", Tensor(zeros: [0, 7]), dtype: .bf16)
        w.add("odd \"name\"\n\u{1}é", Tensor(shape: [1], values: [9]))
        try w.write(to: url, metadata: ["format": "pt", "note": "quote \" backslash \\ é"])

        let f = try SafeTensorsFile(url: url)
        XCTAssertEqual(f.metadata, ["format": "pt", "note": "quote \" backslash \\ é"])
        XCTAssertEqual(f.names.count, 13)
        for dtype in [SafeTensorsDType.f32, .bf16, .f16, .f64] {
            let t = try f.tensor("float/\(dtype.rawValue)")
            XCTAssertEqual(t.shape, [2, 4])
            XCTAssertTrue(bitsEqual(t.array, floats), "\(dtype): \(t.array)")  // all exactly representable
            XCTAssertEqual(f.entries["float/\(dtype.rawValue)"]?.dtype, dtype)
        }
        XCTAssertEqual(try f.int32s("i32"), [Int32.min, -1, 0, Int32.max])
        XCTAssertEqual(try f.int64s("i32"), [Int64(Int32.min), -1, 0, Int64(Int32.max)])
        XCTAssertEqual(try f.int64s("i64"), [Int64.min, -1, 0, Int64.max, 5, 6])
        XCTAssertEqual(f.entries["i64"]?.shape, [2, 3])
        XCTAssertEqual(try f.int64s("i16"), [Int64(Int16.min), 0, Int64(Int16.max)])
        XCTAssertEqual(try f.int64s("i8"), [-128, -1, 127])
        XCTAssertEqual(try f.int32s("u8"), [0, 1, 255])
        XCTAssertEqual(Array(try f.bytes("bool")), [1, 0])
        XCTAssertEqual(try f.tensor("scalar").shape, [])
        XCTAssertEqual(try f.tensor("scalar").array, [3.5])
        XCTAssertEqual(try f.tensor("empty").shape, [0, 7])
        XCTAssertEqual(try f.tensor("odd \"name\"\n\u{1}é").array, [9])
        // The header is padded so the data buffer starts 8-byte aligned.
        let raw = try Data(contentsOf: url)
        XCTAssertEqual(raw.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } % 8, 0)
        // Nothing left behind but the file itself.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["all.safetensors"])
    }

    func testF32IsAZeroCopyViewThatOutlivesTheFile() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("w.safetensors")
        var w = SafeTensorsWriter()
        w.add("w", Tensor(shape: [3], values: [1, 2, 3]))
        try w.write(to: url)
        var t: Tensor
        do {
            let f = try SafeTensorsFile(url: url)
            t = try f.tensor("w")
            let bytes = try f.bytes("w")
            XCTAssertEqual(UnsafeRawPointer(t.data), bytes.baseAddress)  // same memory: no copy
        }
        // The tensor keeps the mapping alive; writing into it changes our copy, never the file.
        t.data[0] = 42
        XCTAssertEqual(t.array, [42, 2, 3])
        XCTAssertEqual(try SafeTensorsFile(url: url).tensor("w").array, [1, 2, 3])
    }

    /// A big BF16 / F16 tensor goes through the parallel conversion; compare with a scalar reference.
    func testLargeConversionsMatchElementwise() throws {
        let n = 1 << 20 | 3
        var bits = [UInt16](repeating: 0, count: n)
        var state: UInt32 = 12345
        for i in 0..<n {
            state = state &* 1_664_525 &+ 1_013_904_223
            bits[i] = UInt16(truncatingIfNeeded: state >> 9)
        }
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("big.safetensors")
        var w = SafeTensorsWriter()
        let raw = bits.withUnsafeBytes { Array($0) }
        w.add("b", bytes: raw, shape: [n], dtype: .bf16)
        w.add("h", bytes: raw, shape: [n], dtype: .f16)
        try w.write(to: url)
        let f = try SafeTensorsFile(url: url)
        let b = try f.tensor("b"), h = try f.tensor("h")
        var bad = 0
        for i in 0..<n {
            if b.data[i].bitPattern != UInt32(bits[i]) << 16 { bad += 1 }
            let half = Float(Float16(bitPattern: bits[i]))
            if !(h.data[i].bitPattern == half.bitPattern || (h.data[i].isNaN && half.isNaN)) { bad += 1 }
        }
        XCTAssertEqual(bad, 0)
        // The converted tensors stay valid after the source pages were released.
        // (Held in a variable: a temporary's converted buffer may be freed before `.data` is read.)
        let again = try f.tensor("b")
        withExtendedLifetime(again) { XCTAssertEqual(again.data[n - 1].bitPattern, UInt32(bits[n - 1]) << 16) }
    }

    func testWriterRefusesBadRequests() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("x.safetensors")
        var twice = SafeTensorsWriter()
        twice.add("a", Tensor(zeros: [1]))
        twice.add("a", Tensor(zeros: [2]))
        assertThrows([url.path, "tensor \"a\" added twice"]) { try twice.write(to: url) }

        var wrongCount = SafeTensorsWriter()
        wrongCount.add("b", bytes: [1, 2, 3], shape: [2], dtype: .i16)
        assertThrows(["tensor \"b\": shape [2] of I16 needs 4 bytes, got 3"]) { try wrongCount.write(to: url) }

        var intAsFloat = SafeTensorsWriter()
        intAsFloat.add("c", Tensor(zeros: [1]), dtype: .i32)
        assertThrows(["tensor \"c\": cannot store a float tensor as I32"]) { try intAsFloat.write(to: url) }

        var reserved = SafeTensorsWriter()
        reserved.add("__metadata__", Tensor(zeros: [1]))
        assertThrows(["reserved"]) { try reserved.write(to: url) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    func testWriteReplacesAnExistingFileAtomically() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("r.safetensors")
        for v: Float in [1, 2] {
            var w = SafeTensorsWriter()
            w.add("v", Tensor(shape: [1], values: [v]))
            try w.write(to: url)
        }
        XCTAssertEqual(try SafeTensorsFile(url: url).tensor("v").array, [2])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["r.safetensors"])
        let missingDir = dir.appendingPathComponent("no/such/dir/x.safetensors")
        assertThrows([missingDir.path, "cannot create a temporary file"]) { try SafeTensorsWriter().write(to: missingDir) }
    }
}
