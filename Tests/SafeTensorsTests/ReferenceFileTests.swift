import Compute
import Foundation
import SafeTensors
import XCTest

/// Files that the Python `safetensors` package wrote (scripts/make_safetensors_fixtures.py): we read
/// exactly the values it stored, and our writer produces byte-identical files from the same tensors.
final class ReferenceFileTests: XCTestCase {
    struct Described: Decodable {
        let dtype: String
        let shape: [Int]
        let values: [Double]
    }

    private func described() throws -> [String: Described] {
        try JSONDecoder().decode([String: Described].self, from: Data(contentsOf: fixtures.appendingPathComponent("reference.json")))
    }

    func testReadsEveryDTypeExactly() throws {
        let file = try SafeTensorsFile(url: fixtures.appendingPathComponent("reference.safetensors"))
        let expected = try described()
        XCTAssertEqual(file.names, expected.keys.sorted())
        XCTAssertEqual(file.metadata, ["format": "pt"])
        for (name, d) in expected {
            let e = try XCTUnwrap(file.entries[name])
            XCTAssertEqual(e.dtype.rawValue, d.dtype, name)
            XCTAssertEqual(e.shape, d.shape, name)
            XCTAssertEqual(e.count, d.values.count, name)
            switch e.dtype {
            case .f32, .bf16, .f16, .f64:
                let t = try file.tensor(name)
                XCTAssertEqual(t.shape, d.shape, name)
                // Exact: the JSON holds the float32 value torch computed, bit for bit.
                XCTAssertTrue(bitsEqual(t.array, d.values.map { Float($0) }), "\(name): \(t.array) vs \(d.values)")
            default:
                XCTAssertEqual(try file.int64s(name), d.values.map { Int64($0) }, name)
                if name != "i64" { XCTAssertEqual(try file.int32s(name), d.values.map { Int32($0) }, name) }
            }
        }
        assertThrows(["reference.safetensors", "does not fit in Int32"]) { _ = try file.int32s("i64") }
        XCTAssertEqual(Array(try file.bytes("u8")), [0, 255, 17])
        XCTAssertEqual(Array(try file.bytes("bool")), [1, 0, 1])
    }

    /// The same tensors through our writer give the very bytes the reference wrote: same order,
    /// same header text, same padding. So the reference reads what we write.
    func testWriterMatchesTheReferenceByteForByte() throws {
        var writer = SafeTensorsWriter()
        for (name, d) in try described() {
            let dtype = try XCTUnwrap(SafeTensorsDType(rawValue: d.dtype))
            switch dtype {
            case .f32, .bf16, .f16, .f64:
                writer.add(name, Tensor(shape: d.shape, values: d.values.map { Float($0) }), dtype: dtype)
            case .i64: writer.add(name, int64s: d.values.map { Int64($0) }, shape: d.shape)
            case .i32: writer.add(name, int32s: d.values.map { Int32($0) }, shape: d.shape)
            case .i16:
                writer.add(name, bytes: d.values.map { Int16($0) }.withUnsafeBytes { Array($0) }, shape: d.shape, dtype: .i16)
            case .i8: writer.add(name, bytes: d.values.map { UInt8(bitPattern: Int8($0)) }, shape: d.shape, dtype: .i8)
            case .u8, .bool: writer.add(name, bytes: d.values.map { UInt8($0) }, shape: d.shape, dtype: dtype)
            }
        }
        let reference = try Data(contentsOf: fixtures.appendingPathComponent("reference.safetensors"))
        let ours = try writer.serialized(metadata: ["format": "pt"])
        XCTAssertEqual(ours.count, reference.count)
        if ours != Array(reference) {
            XCTFail("header differs:\n ours: \(String(decoding: ours.prefix(400), as: UTF8.self))\n ref:  \(String(decoding: reference.prefix(400), as: UTF8.self))")
        }
        // `write` streams the same bytes to disk.
        let url = try temporaryDirectory(self).appendingPathComponent("ours.safetensors")
        try writer.write(to: url, metadata: ["format": "pt"])
        XCTAssertEqual(try Data(contentsOf: url), reference)
    }

    /// torch's `.to(torch.bfloat16)` and `.to(torch.float16)` of awkward floats (ties, NaN payloads,
    /// infinities, subnormals, overflow) and 1024 random ones: our writer stores the same bits, and
    /// reading them back gives torch's float32 widening.
    func testBF16AndF16RoundingIdenticalToTorch() throws {
        let file = try SafeTensorsFile(url: fixtures.appendingPathComponent("rounding.safetensors"))
        let input = try file.tensor("input")
        XCTAssertGreaterThan(input.count, 1000)
        for (name, dtype) in [("bf16", SafeTensorsDType.bf16), ("f16", .f16)] {
            var writer = SafeTensorsWriter()
            writer.add(name, input, dtype: dtype)
            let dir = try temporaryDirectory(self)
            let url = dir.appendingPathComponent("\(name).safetensors")
            try writer.write(to: url)
            let ours = try SafeTensorsFile(url: url)
            let torchBits = Array(try file.bytes(name)).withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
            let ourBits = Array(try ours.bytes(name)).withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
            XCTAssertEqual(ourBits.count, torchBits.count)
            var mismatches = 0
            for i in 0..<min(ourBits.count, torchBits.count) where ourBits[i] != torchBits[i] {
                mismatches += 1
                if mismatches <= 5 {
                    XCTFail("\(name)[\(i)]: input bits 0x\(String(input.data[i].bitPattern, radix: 16)) → ours 0x\(String(ourBits[i], radix: 16)), torch 0x\(String(torchBits[i], radix: 16))")
                }
            }
            XCTAssertEqual(mismatches, 0, name)
            // Widening back to float32 agrees bit for bit with widening torch's bits.
            XCTAssertTrue(bitsEqual(try ours.tensor(name).array, try file.tensor(name).array), name)
        }
    }

    func testShardedCheckpoint() throws {
        let dir = fixtures.appendingPathComponent("sharded")
        let ckpt = try SafeTensorsCheckpoint(directory: dir)
        let expected: [(String, [Int], SafeTensorsDType)] = [
            ("model.embed_tokens.weight", [4, 3], .bf16),
            ("model.layers.0.mlp.up_proj.weight", [3, 2], .f32),
            ("model.layers.0.input_layernorm.weight", [3], .f16),
            ("model.norm.weight", [3], .f32),
        ]
        XCTAssertEqual(ckpt.names, expected.map(\.0).sorted())
        XCTAssertEqual(ckpt.dtypes, [.bf16, .f32, .f16])
        XCTAssertEqual(ckpt.files.count, 2)
        for (i, (name, shape, dtype)) in expected.enumerated() {
            let e = try XCTUnwrap(ckpt.entry(name))
            XCTAssertEqual(e.shape, shape)
            XCTAssertEqual(e.dtype, dtype)
            let t = try ckpt.tensor(name)
            // The script stores arange(n) * 0.5 - i: exact in every one of these dtypes.
            XCTAssertEqual(t.array, (0..<t.count).map { Float($0) * 0.5 - Float(i) }, name)
        }
        XCTAssertNil(ckpt.entry("lm_head.weight"))
        assertThrows([dir.path, "no tensor named \"lm_head.weight\""]) { _ = try ckpt.tensor("lm_head.weight") }
    }
}
