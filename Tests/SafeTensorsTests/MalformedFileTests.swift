import Foundation
import SafeTensors
import XCTest

/// Every kind of malformed file gets a thrown error that names the file and the problem.
final class MalformedFileTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try temporaryDirectory(self) }

    /// Writes `bytes` to a file and asserts that opening it fails with a message naming the file and
    /// containing `problem`.
    private func assertRejected(_ bytes: [UInt8], _ problem: String, line: UInt = #line) throws {
        let url = dir.appendingPathComponent("bad-\(line).safetensors")
        try Data(bytes).write(to: url)
        assertThrows([url.path, problem], line: line) { _ = try SafeTensorsFile(url: url) }
    }

    /// Rejects a file whose header holds the one tensor "a" with the JSON members `fields`, followed by
    /// `dataBytes` zero bytes.
    private func assertRejected(tensorA fields: String, dataBytes: Int, _ problem: String, line: UInt = #line) throws {
        try assertRejected(safetensorsBytes("{\"a\":{\(fields)}}", data: [UInt8](repeating: 0, count: dataBytes)), problem, line: line)
    }

    private let f32x2 = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#

    func testTooShortForTheHeaderLength() throws {
        try assertRejected([], "shorter than the 8-byte header length")
        try assertRejected([1, 2, 3, 4, 5], "shorter than the 8-byte header length")
    }

    func testHeaderLengthPastTheEnd() throws {
        try assertRejected(safetensorsBytes(f32x2, data: [UInt8](repeating: 0, count: 8), headerLength: 1000), "runs past the end")
        try assertRejected(safetensorsBytes("", headerLength: UInt64.max), "over the limit")
    }

    func testHeaderOverOneHundredMegabytes() throws {
        try assertRejected(safetensorsBytes("{}", headerLength: 100_000_001), "over the limit of 100000000 bytes")
    }

    func testInvalidJSON() throws {
        try assertRejected(safetensorsBytes(#"{"a": "#), "not valid JSON")
        try assertRejected(safetensorsBytes(#"{"a":{"dtype":"F32",}}"#), "not valid JSON")
        try assertRejected(safetensorsBytes("{} x"), "unexpected data after the JSON value")
        // Deep nesting is refused, not recursed into until the stack runs out.
        try assertRejected(safetensorsBytes("{\"a\":" + String(repeating: "[", count: 100_000)), "nesting deeper")
    }

    func testInvalidUTF8InAName() throws {
        var bytes = safetensorsBytes(#"{"ab":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}"#)
        bytes[10] = 0xFF  // the 'a' of "ab"
        try assertRejected(bytes, "invalid UTF-8")
    }

    func testHeaderNotAnObject() throws {
        try assertRejected(safetensorsBytes("[1,2]"), "JSON object")
        try assertRejected(safetensorsBytes(#"{"a":3}"#), "tensor \"a\" is a number, not an object")
    }

    func testUnknownDType() throws {
        try assertRejected(tensorA: #""dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]"#, dataBytes: 2,
                           "tensor \"a\" has unknown dtype \"F8_E4M3\"")
        try assertRejected(tensorA: #""dtype":7,"shape":[2],"data_offsets":[0,2]"#, dataBytes: 2, "dtype is a number")
    }

    func testBadShapeValues() throws {
        for shape in ["[-1]", "[1.5]", "[\"2\"]", "[1e2]", "[null]", "[2.0]"] {
            try assertRejected(tensorA: #""dtype":"U8","shape":\#(shape),"data_offsets":[0,2]"#, dataBytes: 2,
                               "tensor \"a\" has a bad shape value")
        }
        try assertRejected(tensorA: #""dtype":"U8","shape":2,"data_offsets":[0,2]"#, dataBytes: 2, "shape is a number")
        try assertRejected(tensorA: #""dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,2]"#, dataBytes: 2, "overflows")
        try assertRejected(tensorA: #""dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,2]"#, dataBytes: 2,
                           "bad shape value")
    }

    func testMissingOrUnknownFields() throws {
        try assertRejected(tensorA: #""shape":[2],"data_offsets":[0,8]"#, dataBytes: 8, "has no dtype")
        try assertRejected(tensorA: #""dtype":"F32","data_offsets":[0,8]"#, dataBytes: 8, "has no shape")
        try assertRejected(tensorA: #""dtype":"F32","shape":[2]"#, dataBytes: 8, "has no data_offsets")
        try assertRejected(tensorA: #""dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1"#, dataBytes: 8, "unknown field \"x\"")
    }

    func testOffsetsOutOfRange() throws {
        try assertRejected(tensorA: #""dtype":"F32","shape":[25],"data_offsets":[0,100]"#, dataBytes: 8,
                           "data_offsets [0, 100] are out of range: the data buffer holds 8 bytes")
        try assertRejected(tensorA: #""dtype":"F32","shape":[2],"data_offsets":[8,0]"#, dataBytes: 8, "end before they begin")
        try assertRejected(tensorA: #""dtype":"F32","shape":[2],"data_offsets":[0]"#, dataBytes: 8, "not an array of two integers")
        try assertRejected(tensorA: #""dtype":"F32","shape":[2],"data_offsets":[-8,0]"#, dataBytes: 8, "not non-negative integers")
    }

    func testOffsetsOverlapping() throws {
        let h = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        try assertRejected(safetensorsBytes(h, data: [UInt8](repeating: 0, count: 12)), "overlap")
        // Two tensors on the very same bytes.
        let same = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        try assertRejected(safetensorsBytes(same, data: [UInt8](repeating: 0, count: 8)), "overlap")
    }

    func testOffsetsNotCoveringTheBuffer() throws {
        let gap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        try assertRejected(safetensorsBytes(gap, data: [UInt8](repeating: 0, count: 12)), "gap: bytes [4, 8) belong to no tensor")
        let leadingGap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        try assertRejected(safetensorsBytes(leadingGap, data: [UInt8](repeating: 0, count: 8)), "gap: bytes [0, 4)")
        let short = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        try assertRejected(safetensorsBytes(short, data: [UInt8](repeating: 0, count: 8)), "tensors cover 4 bytes but the data buffer holds 8 bytes")
        try assertRejected(safetensorsBytes("{}", data: [1]), "tensors cover 0 bytes but the data buffer holds 1 bytes")
    }

    func testShapeNotMatchingTheByteCount() throws {
        try assertRejected(tensorA: #""dtype":"F32","shape":[3],"data_offsets":[0,8]"#, dataBytes: 8,
                           "shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8")
        try assertRejected(tensorA: #""dtype":"BF16","shape":[],"data_offsets":[0,4]"#, dataBytes: 4, "needs 2 bytes")
    }

    func testDuplicateNames() throws {
        let h = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        try assertRejected(safetensorsBytes(h, data: [UInt8](repeating: 0, count: 8)), "duplicate key \"a\"")
    }

    func testBadMetadata() throws {
        try assertRejected(safetensorsBytes(#"{"__metadata__":[1]}"#), "__metadata__ is an array, not an object of strings")
        try assertRejected(safetensorsBytes(#"{"__metadata__":{"format":1}}"#), "__metadata__ key \"format\" is a number, not a string")
        try assertRejected(safetensorsBytes(#"{"__metadata__":{"a":"x","a":"y"}}"#), "duplicate key \"a\"")
    }

    func testNotAFile() throws {
        assertThrows([dir.path, "not a regular file"]) { _ = try SafeTensorsFile(url: dir) }
        let missing = dir.appendingPathComponent("missing.safetensors")
        assertThrows([missing.path, "cannot open"]) { _ = try SafeTensorsFile(url: missing) }
    }

    /// The format allows trailing spaces after the JSON; an empty header is a valid empty file.
    func testPaddingAndEmptyFilesAreAccepted() throws {
        let url = dir.appendingPathComponent("ok.safetensors")
        try Data(safetensorsBytes(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}   "#, data: [0, 0, 0x80, 0x3F])).write(to: url)
        XCTAssertEqual(try SafeTensorsFile(url: url).tensor("a").array, [1])
        try Data(safetensorsBytes("{}")).write(to: url)
        XCTAssertEqual(try SafeTensorsFile(url: url).names, [])
    }

    func testErrorsOnLookup() throws {
        let url = dir.appendingPathComponent("ints.safetensors")
        try Data(safetensorsBytes(#"{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0, 1, 0, 0, 0])).write(to: url)
        let file = try SafeTensorsFile(url: url)
        assertThrows([url.path, "no tensor named \"x\""]) { _ = try file.tensor("x") }
        assertThrows([url.path, "tensor \"i\" is I64, not a float type"]) { _ = try file.tensor("i") }
        assertThrows([url.path, "value 4294967296 at index 0 does not fit in Int32"]) { _ = try file.int32s("i") }
        XCTAssertEqual(try file.int64s("i"), [1 << 32])
    }
}
