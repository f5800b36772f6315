import Foundation
import TorchFormat
import XCTest

/// The committed fixtures beside this file (scripts/make_torch_fixtures.py).
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

func fixtureBytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: fixtures.appendingPathComponent(name)))
}

/// Asserts that `body` throws a TorchFormatError whose message contains every one of `parts`.
func assertThrows(_ parts: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected an error containing \(parts)", file: file, line: line)
    } catch let e as TorchFormatError {
        for p in parts where !e.description.contains(p) {
            XCTFail("error \"\(e.description)\" does not contain \"\(p)\"", file: file, line: line)
        }
    } catch {
        XCTFail("expected a TorchFormatError, got \(error)", file: file, line: line)
    }
}

/// Asserts that `bytes` are refused with a message naming `name` and containing `problem`.
func assertRefused(_ bytes: [UInt8], _ problem: String, file: StaticString = #filePath, line: UInt = #line) {
    let name = "hand-made-\(line).pt"
    assertThrows([name, problem], file: file, line: line) { _ = try TorchArchive(bytes: bytes, name: name) }
}

// MARK: building archives by hand

/// CRC-32 (IEEE), bit by bit: slow and obviously right.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return ~c
}

extension Array where Element == UInt8 {
    mutating func le<T: FixedWidthInteger>(_ v: T) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    mutating func put<T: FixedWidthInteger>(_ v: T, at offset: Int) {
        Swift.withUnsafeBytes(of: v.littleEndian) { for (k, b) in $0.enumerated() { self[offset + k] = b } }
    }
}

/// A ZIP archive of stored entries, in the plain layout Python's zipfile writes (sizes in the local
/// headers, no data descriptors). `zip64` puts every size and offset in ZIP64 extra fields and adds
/// the ZIP64 end record and locator.
func makeZip(_ entries: [(String, [UInt8])], zip64: Bool = false) -> [UInt8] {
    var out: [UInt8] = []
    var central: [UInt8] = []
    for (name, data) in entries {
        let n = Array(name.utf8), offset = out.count, crc = crc32(data)
        var extra: [UInt8] = []
        if zip64 { extra.le(UInt16(1)); extra.le(UInt16(16)); extra.le(UInt64(data.count)); extra.le(UInt64(data.count)) }
        out.le(UInt32(0x0403_4B50)); out.le(UInt16(45)); out.le(UInt16(0)); out.le(UInt16(0)); out.le(UInt32(0))
        out.le(crc)
        out.le(zip64 ? UInt32.max : UInt32(data.count)); out.le(zip64 ? UInt32.max : UInt32(data.count))
        out.le(UInt16(n.count)); out.le(UInt16(extra.count))
        out += n + extra + data

        var cextra: [UInt8] = []
        if zip64 {
            cextra.le(UInt16(1)); cextra.le(UInt16(24))
            cextra.le(UInt64(data.count)); cextra.le(UInt64(data.count)); cextra.le(UInt64(offset))
        }
        central.le(UInt32(0x0201_4B50)); central.le(UInt16(45)); central.le(UInt16(45)); central.le(UInt16(0)); central.le(UInt16(0))
        central.le(UInt32(0)); central.le(crc)
        central.le(zip64 ? UInt32.max : UInt32(data.count)); central.le(zip64 ? UInt32.max : UInt32(data.count))
        central.le(UInt16(n.count)); central.le(UInt16(cextra.count)); central.le(UInt16(0)); central.le(UInt16(0))
        central.le(UInt16(0)); central.le(UInt32(0)); central.le(zip64 ? UInt32.max : UInt32(offset))
        central += n + cextra
    }
    let directoryOffset = out.count
    out += central
    if zip64 {
        let record = out.count
        out.le(UInt32(0x0606_4B50)); out.le(UInt64(44)); out.le(UInt16(45)); out.le(UInt16(45)); out.le(UInt32(0)); out.le(UInt32(0))
        out.le(UInt64(entries.count)); out.le(UInt64(entries.count)); out.le(UInt64(central.count)); out.le(UInt64(directoryOffset))
        out.le(UInt32(0x0706_4B50)); out.le(UInt32(0)); out.le(UInt64(record)); out.le(UInt32(1))
    }
    out.le(UInt32(0x0605_4B50)); out.le(UInt16(0)); out.le(UInt16(0))
    out.le(zip64 ? UInt16.max : UInt16(entries.count)); out.le(zip64 ? UInt16.max : UInt16(entries.count))
    out.le(zip64 ? UInt32.max : UInt32(central.count)); out.le(zip64 ? UInt32.max : UInt32(directoryOffset))
    out.le(UInt16(0))
    return out
}

/// Protocol-2 pickle pieces, as torch.save writes them.
enum Pickle {
    static func string(_ s: String) -> [UInt8] {
        var out: [UInt8] = [0x58]
        out.le(UInt32(s.utf8.count))
        return out + Array(s.utf8)
    }

    /// BININT1 for 0..<256, else LONG1 with the fewest two's-complement bytes (as Python writes it).
    static func int(_ v: Int64) -> [UInt8] {
        if v >= 0, v < 256 { return [0x4B, UInt8(v)] }
        var bytes: [UInt8] = []
        bytes.le(v)
        while bytes.count > 1, (bytes[bytes.count - 1] == 0 && bytes[bytes.count - 2] < 0x80)
                || (bytes[bytes.count - 1] == 0xFF && bytes[bytes.count - 2] >= 0x80) { bytes.removeLast() }
        return [0x8A, UInt8(bytes.count)] + bytes
    }

    static func global(_ module: String, _ name: String) -> [UInt8] { [0x63] + Array("\(module)\n\(name)\n".utf8) }

    static func tuple(_ items: [[UInt8]]) -> [UInt8] { [0x28] + items.flatMap { $0 } + [0x74] }

    static let orderedDict: [UInt8] = global("collections", "OrderedDict") + [0x29, 0x52]

    /// `_rebuild_tensor_v2((storage persistent id), offset, size, stride, False, OrderedDict()[, extra])`.
    static func tensor(storage: String = "FloatStorage", key: String = "0", count: Int64, offset: Int64 = 0,
                       shape: [Int64], strides: [Int64], extra: [[UInt8]] = []) -> [UInt8] {
        let pid = tuple([string("storage"), global("torch", storage), string(key), string("cpu"), int(count)])
        let args = tuple([pid + [0x51], int(offset), tuple(shape.map(int)), tuple(strides.map(int)), [0x89], orderedDict] + extra)
        return global("torch._utils", "_rebuild_tensor_v2") + args + [0x52]
    }

    /// A whole pickle: PROTO 2, `body`, STOP.
    static func file(_ body: [UInt8]) -> [UInt8] { [0x80, 2] + body + [0x2E] }

    /// A dict of `items` (key → pickled value).
    static func dict(_ items: [(String, [UInt8])]) -> [UInt8] {
        [0x7D, 0x28] + items.flatMap { string($0.0) + $0.1 } + [0x75]
    }
}

/// A torch.save-shaped archive: `archive/data.pkl` = `pickle`, `archive/data/<key>` = each storage,
/// `archive/byteorder` and `archive/version`.
func torchArchive(_ pickle: [UInt8], storages: [(String, [UInt8])] = [], zip64: Bool = false) -> [UInt8] {
    makeZip([("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8))]
            + storages.map { ("archive/data/\($0.0)", $0.1) } + [("archive/version", Array("3\n".utf8))], zip64: zip64)
}

/// `count` little-endian float32 values 0, 1, 2, …
func floatStorage(_ count: Int) -> [UInt8] {
    var out: [UInt8] = []
    for i in 0..<count { out.le(Float(i).bitPattern) }
    return out
}
