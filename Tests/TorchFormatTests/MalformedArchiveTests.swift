import Foundation
import TorchFormat
import XCTest

/// Hand-made archives, broken one way each: every one a thrown error naming the file and the problem.
final class MalformedArchiveTests: XCTestCase {
    /// A float32 [2, 3] tensor over a 6-element storage, as torch.save lays it out.
    private let good = torchArchive(Pickle.file(Pickle.tensor(count: 6, shape: [2, 3], strides: [3, 1])), storages: [("0", floatStorage(6))])

    func testTheHandMadeArchiveIsGood() throws {
        for zip64 in [false, true] {
            let bytes = torchArchive(Pickle.file(Pickle.tensor(count: 6, shape: [2, 3], strides: [3, 1])), storages: [("0", floatStorage(6))], zip64: zip64)
            let t = try TorchArchive(bytes: bytes, name: "good.pt").tensor()
            XCTAssertEqual(try t.float32().array, [0, 1, 2, 3, 4, 5])
        }
    }

    // MARK: the ZIP layer

    func testEveryTruncation() throws {
        for n in 0..<good.count {
            XCTAssertThrowsError(try TorchArchive(bytes: Array(good[0..<n]), name: "cut.pt"), "cut at \(n)") { e in
                XCTAssertTrue("\(e)".hasPrefix("cut.pt: "), "\(e)")
            }
        }
        assertRefused(Array(good.dropLast(5)), "has no ZIP end-of-central-directory record")
        assertRefused(Array(good.dropFirst(1)), "but the end record starts at byte")
    }

    func testCentralDirectoryOutsideTheFile() {
        var bytes = good
        bytes.put(UInt32(0xFFFF_FF00), at: bytes.count - 6)
        assertRefused(bytes, "lies outside the file")
        bytes = good
        bytes.put(UInt32(0xFFFF_FFF0), at: bytes.count - 10)  // its size
        assertRefused(bytes, "lies outside the file")
        bytes = good
        bytes.put(UInt32(3), at: bytes.count - 6)  // inside the file, but not where it ends
        assertRefused(bytes, "central directory ends at byte")
    }

    func testEntryCountsTheDirectoryCannotHold() {
        var bytes = good
        bytes.put(UInt16(60000), at: bytes.count - 12)
        bytes.put(UInt16(60000), at: bytes.count - 14)
        assertRefused(bytes, "end record counts 60000 entries")
    }

    func testHugeZIP64Values() throws {
        let zip64 = torchArchive(Pickle.file(Pickle.tensor(count: 6, shape: [2, 3], strides: [3, 1])), storages: [("0", floatStorage(6))], zip64: true)
        // The ZIP64 end record: entry count, directory size and offset (the end record is 22 bytes, its locator 20).
        let record = zip64.count - 22 - 20 - 56
        for (field, what) in [(32, "entry count"), (40, "central directory size"), (48, "central directory offset")] {
            var bytes = zip64
            bytes.put(UInt64(1) << 62, at: record + field)
            if field == 32 { bytes.put(UInt64(1) << 62, at: record + 24) }  // the count on this disk too
            assertRefused(bytes, "ZIP64 end record gives a \(what) of 4611686018427387904")
        }
        // The first entry's central extra field: size, compressed size, local header offset.
        var bytes = zip64
        let central = Int(bytes[record + 48]) | Int(bytes[record + 49]) << 8
        for (k, field) in ["size", "compressed size", "local header offset"].enumerated() {
            bytes = zip64
            bytes.put(UInt64.max - 1, at: central + 46 + "archive/data.pkl".utf8.count + 4 + 8 * k)
            assertRefused(bytes, "ZIP64 \(field) 18446744073709551614 is more than the file's")
        }
        // A placeholder without its ZIP64 value.
        bytes = zip64
        bytes.put(UInt16(0), at: central + 30)  // no extra field
        assertRefused(bytes, "entry \"archive/data.pkl\" (central directory): the size is a ZIP64 placeholder but the ZIP64 extra field lacks it")
        // A ZIP64 locator pointing nowhere.
        bytes = zip64
        bytes.put(UInt64(1) << 40, at: zip64.count - 22 - 20 + 8)
        assertRefused(bytes, "leaves no room for the record")
    }

    func testMissingPickle() {
        assertRefused(makeZip([("archive/version", Array("3\n".utf8)), ("archive/data/0", floatStorage(2))]), "has no archive/data.pkl")
        assertRefused(makeZip([]), "the ZIP archive is empty")
    }

    func testDuplicateEntries() {
        let pickle = Pickle.file(Pickle.tensor(count: 2, shape: [2], strides: [1]))
        assertRefused(makeZip([("archive/data.pkl", pickle), ("archive/data/0", floatStorage(2)), ("archive/data/0", floatStorage(2))]),
                      "entry \"archive/data/0\" appears twice")
    }

    func testEntriesOutsideTheLayout() {
        let pickle = Pickle.file(Pickle.tensor(count: 2, shape: [2], strides: [1]))
        assertRefused(makeZip([("archive/data.pkl", pickle), ("other/data/0", floatStorage(2))]), "lie in different top folders")
        assertRefused(makeZip([("data.pkl", pickle)]), "is not inside a top folder")
        assertRefused(makeZip([("archive/data.pkl", pickle), ("archive/code/x.py", [])]), "entry \"archive/code/x.py\" is not part of a torch.save file")
        assertRefused(makeZip([("archive/data.pkl", pickle), ("archive/byteorder", Array("big".utf8))]), "archive/byteorder says \"big\"")
        assertRefused(makeZip([("archive/data.pkl", pickle), ("archive/version", Array("three".utf8))]), "archive/version holds \"three\", not a number")
    }

    func testCorruptData() {
        var bytes = good
        let storage = bytes.indices.first { bytes[$0...].starts(with: floatStorage(6)) }!
        bytes[storage + 5] ^= 1
        assertRefused(bytes, "entry \"archive/data/0\" fails its CRC-32 check")
        // Without the check (the fuzzing entry point) the damaged value is read as it is.
        let t = try? TorchArchive(bytes: bytes, name: "unchecked.pt", verifyingChecksums: false).tensor().float32()
        XCTAssertEqual(t?.array[1], Float(bitPattern: Float(1).bitPattern ^ 0x100))
    }

    func testLocalHeaderDisagreesWithTheDirectory() {
        var bytes = good
        bytes[30] = UInt8(ascii: "X")  // the first local header's name
        assertRefused(bytes, "entry \"archive/data.pkl\": the local header at byte 0 names a different entry")
        bytes = good
        bytes.put(UInt32(0x0403_4B51), at: 0)
        assertRefused(bytes, "entry \"archive/data.pkl\": no local header at byte 0")
        bytes = good
        bytes.put(UInt32(1234), at: 14)  // its CRC
        assertRefused(bytes, "local header (CRC 0x4d2")
    }

    func testEncryptedEntry() {
        var bytes = good
        let central = bytes.indices.first { bytes[$0...].starts(with: [0x50, 0x4B, 0x01, 0x02]) }!
        bytes.put(UInt16(1), at: central + 8)
        bytes.put(UInt16(1), at: 6)
        assertRefused(bytes, "entry \"archive/data.pkl\" is encrypted")
    }

    func testOverlappingEntries() {
        // The second directory entry points at the first entry's local header under another name is
        // caught by the name check; here both entries name the same bytes by making the data of "a"
        // hold the whole of "b".
        let inner = makeZip([("archive/data/0", floatStorage(2))])
        let innerLocal = Array(inner[0..<(30 + 14 + 8)])
        var bytes = makeZip([("archive/data.pkl", Pickle.file(Pickle.tensor(count: 2, shape: [2], strides: [1]))),
                             ("archive/.data/blob", innerLocal)])
        // Append a third directory entry for archive/data/0 at the blob's data offset.
        let blobData = bytes.indices.first { bytes[$0...].starts(with: innerLocal) }!
        let endRecord = bytes.count - 22
        let directory = Int(bytes[endRecord + 16]) | Int(bytes[endRecord + 17]) << 8
        var extra = Array(inner[(inner.count - 22 - 46 - 14)..<(inner.count - 22)])  // inner's directory entry
        extra.put(UInt32(blobData), at: 42)
        var tail = Array(bytes[directory..<endRecord]) + extra
        var end = Array(bytes[endRecord...])
        end.put(UInt16(3), at: 8); end.put(UInt16(3), at: 10); end.put(UInt32(tail.count), at: 12)
        tail += end
        bytes = Array(bytes[0..<directory]) + tail
        assertRefused(bytes, "overlap")
    }

    // MARK: storages and views

    func testStorageTooShortForItsTensor() {
        assertRefused(torchArchive(Pickle.file(Pickle.tensor(count: 6, shape: [2, 3], strides: [3, 1])), storages: [("0", floatStorage(5))]),
                      "storage \"0\" holds 20 bytes but its persistent id says 6 × float32 (24 bytes)")
        assertRefused(torchArchive(Pickle.file(Pickle.tensor(count: 6, shape: [3, 3], strides: [3, 1])), storages: [("0", floatStorage(6))]),
                      "the tensor: shape [3, 3], strides [3, 1], offset 0 reaches element 8, but its storage \"0\" holds 6 elements")
        assertRefused(torchArchive(Pickle.file(Pickle.tensor(count: 6, offset: 5, shape: [2], strides: [1])), storages: [("0", floatStorage(6))]),
                      "reaches element 6")
        assertRefused(torchArchive(Pickle.file(Pickle.tensor(key: "7", count: 2, shape: [2], strides: [1])), storages: [("0", floatStorage(2))]),
                      "refers to storage \"7\", but the archive has no entry archive/data/7")
    }

    func testAbsurdCounts() {
        assertRefused(torchArchive(Pickle.file(Pickle.tensor(count: 1 << 62, shape: [1 << 62], strides: [1])), storages: [("0", floatStorage(2))]),
                      "persistent id says 4611686018427387904 × float32 (more than can be counted bytes)")
        assertRefused(torchArchive(Pickle.file(Pickle.tensor(count: 2, shape: [1 << 31, 1 << 31], strides: [0, 0])), storages: [("0", floatStorage(2))]),
                      "has 4611686018427387904 elements, more than the 2 of its storage")
        assertRefused(torchArchive(Pickle.file(Pickle.tensor(count: 2, shape: [1 << 40, 1 << 40], strides: [1, 1])), storages: [("0", floatStorage(2))]),
                      "more elements than can be counted")
        assertRefused(torchArchive(Pickle.file(Pickle.tensor(count: 2, shape: [2, 2], strides: [Int64.max, 1])), storages: [("0", floatStorage(2))]),
                      "reaches past any storage")
        assertRefused(torchArchive(Pickle.file(Pickle.tensor(count: 2, shape: [2], strides: [-1])), storages: [("0", floatStorage(2))]),
                      "the tensor's stride holds a negative number")
        assertRefused(torchArchive(Pickle.file(Pickle.tensor(count: -2, shape: [2], strides: [1])), storages: [("0", floatStorage(2))]),
                      "negative element count")
    }

    /// A huge stride over a dimension of size 1 is legal (torch writes such strides) and must not overflow.
    func testHugeStrideOverASizeOneDimension() throws {
        let bytes = torchArchive(Pickle.file(Pickle.tensor(count: 2, shape: [1, 2], strides: [Int64.max, 1])), storages: [("0", floatStorage(2))])
        let t = try TorchArchive(bytes: bytes, name: "stride.pt").tensor()
        XCTAssertEqual(try t.float32().array, [0, 1])
        let u = try TorchArchive(bytes: torchArchive(Pickle.file(Pickle.tensor(count: 4, shape: [2, 1], strides: [2, Int64.max])),
                                                     storages: [("0", floatStorage(4))]), name: "stride.pt").tensor()
        XCTAssertEqual(try u.float32().array, [0, 2])
    }

    /// One long shape tuple, memoized and named by many tensors: refused before their arrays are made.
    func testDimensionsThePickleCannotPayFor() {
        let ones = Pickle.tuple(Array(repeating: Pickle.int(1), count: 2000))
        let first = Pickle.global("torch._utils", "_rebuild_tensor_v2") + [0x71, 0]
            + Pickle.tuple([Pickle.tuple([Pickle.string("storage"), Pickle.global("torch", "FloatStorage"), Pickle.string("0"), Pickle.string("cpu"), Pickle.int(6)]) + [0x51, 0x71, 1],
                            Pickle.int(0), ones + [0x71, 2], [0x68, 2], [0x89], [0x7D]]) + [0x52]
        let again = [0x68, 0] + Pickle.tuple([[0x68, 1], Pickle.int(0), [0x68, 2], [0x68, 2], [0x89], [0x7D]]) + [0x52]
        let items = [("t0", first)] + (1..<20).map { ("t\($0)", again) }
        pickled(Pickle.file(Pickle.dict(items)), "the tensors have more dimensions in all than a pickle of")
    }

    func testOneStorageNamedTwoWays() {
        let a = Pickle.tensor(count: 2, shape: [2], strides: [1])
        let b = Pickle.tensor(storage: "IntStorage", count: 2, shape: [2], strides: [1])
        assertRefused(torchArchive(Pickle.file(Pickle.dict([("a", a), ("b", b)])), storages: [("0", floatStorage(2))]),
                      "tensor \"b\" names storage \"0\" as 2 × int32, but another tensor names it as 2 × float32")
    }

    // MARK: the pickle

    private func pickled(_ body: [UInt8], line: UInt = #line, _ problem: String) {
        assertRefused(torchArchive(body, storages: [("0", floatStorage(6))]), problem, line: line)
    }

    func testPickleStructure() {
        let t = Pickle.tensor(count: 6, shape: [6], strides: [1])
        pickled([0x80, 2] + t, "the pickle ends at byte")
        pickled(Pickle.file(t) + [0x2E], "1 bytes follow the STOP opcode")
        pickled(Pickle.file(t + t), "the pickle stops with 2 values")
        pickled(Pickle.file([0x28] + t), "1 open marks")
        pickled([0x80, 9] + t + [0x2E], "pickle protocol 9 is not one torch.save writes")
        pickled(Pickle.file([0x52]), "opcode REDUCE (0x52) at byte 2: needs 2 values but the stack holds 0")
        pickled(Pickle.file([0x74]), "there is no MARK to pop to")
        pickled(Pickle.file([0x68, 4]), "opcode BINGET (0x68) at byte 2: memo entry 4 was never stored")
        pickled(Pickle.file([0x71, 0]), "the stack is empty")
        pickled(Pickle.file([0xFF]), "unknown opcode (0xff) at byte 2 is not allowed")
        pickled(Pickle.file([0x47] + [UInt8](repeating: 0, count: 8)), "opcode BINFLOAT (0x47) at byte 2 is not allowed")
        pickled([0x80, 2, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x41], "a string of 2147483647 bytes runs past the end of the pickle")
        pickled([0x80, 2, 0x8D] + [UInt8](repeating: 0xFF, count: 8), "a string of 18446744073709551615 bytes")
        pickled(Pickle.file([0x58, 2, 0, 0, 0, 0xC3, 0x28]), "the string is not valid UTF-8")
        pickled(Pickle.file([0x8A, 9] + [UInt8](repeating: 0, count: 9)), "an integer of 9 bytes does not fit in 64 bits")
        pickled([0x80, 2, 0x4A, 1], "its 4-byte operand runs past the end of the pickle")
        pickled([0x80, 2, 0x63] + Array("torch\nFloat".utf8), "its operand has no terminating newline")
        pickled(Pickle.file([0x95] + [UInt8](repeating: 0x7F, count: 8)), "frame of 9187201950435737471 bytes runs past the end")
        pickled(Pickle.file(Array(repeating: 0x29, count: 1) + Array(repeating: 0x85, count: 40)), "tuples nest deeper than 16")
    }

    func testPickleContent() {
        let t = Pickle.tensor(count: 6, shape: [6], strides: [1])
        pickled(Pickle.file(Pickle.int(3)), "holds an int, not a tensor or a dict of tensors")
        pickled(Pickle.file(Pickle.string("x")), "holds a string")
        pickled(Pickle.file([0x7D, 0x28, 0x4B, 1] + t + [0x75]), "the dict has a key that is an int, not a string")
        pickled(Pickle.file(Pickle.dict([("a", t), ("a", t)])), "the dict has the key \"a\" twice")
        pickled(Pickle.file(Pickle.dict([("a", Pickle.int(1))])), "the value of \"a\" is an int, not a tensor")
        pickled(Pickle.file(Pickle.global("builtins", "eval")), "the global builtins.eval is not allowed")
        pickled(Pickle.file(Pickle.string("os") + Pickle.string("system") + [0x93]), "opcode STACK_GLOBAL (0x93) at byte 20: the global os.system is not allowed")
        pickled(Pickle.file(Pickle.global("torch", "FloatStorage") + Pickle.tuple([]) + [0x52]), "calls the storage class torch.FloatStorage")
        pickled(Pickle.file(Array(Pickle.orderedDict.dropLast(2)) + Pickle.tuple([Pickle.int(1)]) + [0x52]), "calls collections.OrderedDict with 1 arguments")
        pickled(Pickle.file(Pickle.int(1) + Pickle.tuple([]) + [0x52]), "calls an int, not an allowed global")
        pickled(Pickle.file(Pickle.tuple([Pickle.string("storage")]) + [0x51]), "the persistent id is not ('storage', torch.<Type>Storage, key, location, count)")
        pickled(Pickle.file(Pickle.global("torch._utils", "_rebuild_tensor_v2") + Pickle.tuple([Pickle.int(1)]) + [0x52]),
                "calls _rebuild_tensor_v2 with arguments other than")
        pickled(Pickle.file(Pickle.tensor(count: 6, shape: [6], strides: [1], extra: [Pickle.dict([("conj", [0x88])])])),
                "the tensor carries metadata")
        pickled(Pickle.file(Pickle.tensor(count: 6, shape: [6, 1], strides: [1])), "the tensor has 2 sizes but 1 strides")
        pickled(Pickle.file(Pickle.int(1) + [0x7D, 0x62]), "opcode BUILD (0x62) at byte 5: sets the state of an int")
        pickled(Pickle.file(Pickle.int(0) + Pickle.int(1) + Pickle.int(2) + [0x73]), "adds items to an int, not a dict")
        pickled(Pickle.file([0x7D, 0x28, 0x4B, 1, 0x75]), "1 values do not make key/value pairs")
    }

    /// Parts torch writes that are accepted and ignored: an empty metadata dict, a Parameter, BUILD
    /// on an OrderedDict, LONG1 integers.
    func testAcceptedPickleForms() throws {
        let withMetadata = Pickle.tensor(count: 6, shape: [6], strides: [1], extra: [[0x7D]])
        let parameter = Pickle.global("torch._utils", "_rebuild_parameter") + Pickle.tuple([Pickle.tensor(count: 6, offset: 1, shape: [2], strides: [2]), [0x88], Pickle.orderedDict]) + [0x52]
        let dict = Pickle.orderedDict + [0x28] + Pickle.string("m") + withMetadata + Pickle.string("p") + parameter + [0x75]
            + [0x7D] + Pickle.string("_metadata") + [0x4E, 0x73, 0x62]
        let a = try TorchArchive(bytes: torchArchive(Pickle.file(dict), storages: [("0", floatStorage(6))]), name: "ok.pt")
        XCTAssertEqual(a.keys, ["m", "p"])
        XCTAssertEqual(try a.tensor("p").float32().array, [1, 3])
        // LONG1: 300 as two bytes, and one byte 0xFF sign-extended to −1.
        let long = Pickle.file(Pickle.tensor(count: 300, shape: [300], strides: [1]))
        XCTAssertEqual(try TorchArchive(bytes: torchArchive(long, storages: [("0", floatStorage(300))]), name: "ok.pt").tensor().float32().array[299], 299)
        XCTAssertEqual(Pickle.int(300), [0x8A, 2, 0x2C, 0x01])
        XCTAssertEqual(Pickle.int(-1), [0x8A, 1, 0xFF])
        assertRefused(torchArchive(Pickle.file(Pickle.tensor(count: 6, offset: -1, shape: [6], strides: [1])), storages: [("0", floatStorage(6))]),
                      "the tensor has a negative storage offset -1")
    }
}

