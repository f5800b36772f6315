import Foundation
import TorchFormat
import XCTest

/// Random damage, deterministic: every damaged archive is a thrown TorchFormatError naming the file,
/// or a good read whose every tensor reads; never a crash. (A smoke test; fuzzing goes further.)
final class RandomDamageTests: XCTestCase {
    private var rng = SplitMix(seed: 9)
    private var opened = 0

    /// `input` with one to `edits` bytes flipped, replaced, or (with `resize`) removed or inserted.
    private func damaged(_ input: [UInt8], edits: Int, resize: Bool) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + Int(rng.next() % UInt64(edits))) {
            let i = Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % (resize ? 4 : 3) {
            case 0: bytes[i] ^= UInt8(1 << (rng.next() % 8))
            case 1: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            case 2: bytes[i] = [0x00, 0xFF, 0x7F, 0x80][Int(rng.next() % 4)]
            default: if rng.next() % 2 == 0 { bytes.remove(at: i) } else { bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: i) }
            }
        }
        return bytes
    }

    private func readOrRefuse(_ bytes: [UInt8], checksums: Bool = true, line: UInt = #line) throws {
        do {
            let a = try TorchArchive(bytes: bytes, name: "damaged.pt", verifyingChecksums: checksums)
            opened += 1
            for t in a.tensors.values { _ = t.dtype.isFloatingPoint ? try t.float32().count : try t.int64s().count }
        } catch let e as TorchFormatError {
            XCTAssertTrue(e.description.hasPrefix("damaged.pt: "), e.description, line: line)
        }
    }

    /// Every fixture and a hand-made ZIP64 archive, damaged anywhere. The CRC-32 check catches most
    /// damage to stored bytes; what opens is damage the format cannot see (times, version fields).
    func testDamagedArchives() throws {
        var inputs = [torchArchive(Pickle.file(Pickle.tensor(count: 6, shape: [2, 3], strides: [3, 1])), storages: [("0", floatStorage(6))], zip64: true)]
        for f in try FileManager.default.contentsOfDirectory(atPath: fixtures.path) where f.hasSuffix(".pt") { inputs.append(try fixtureBytes(f)) }
        for input in inputs {
            for _ in 0..<300 { try readOrRefuse(damaged(input, edits: 4, resize: false)) }
        }
        XCTAssertGreaterThan(opened, 0)
    }

    /// The same without the CRC-32 check, as a fuzzer runs it: damage reaches the pickle and the storages.
    func testDamagedArchivesWithoutChecksums() throws {
        var inputs: [[UInt8]] = []
        for f in try FileManager.default.contentsOfDirectory(atPath: fixtures.path) where f.hasSuffix(".pt") { inputs.append(try fixtureBytes(f)) }
        for input in inputs {
            for _ in 0..<300 { try readOrRefuse(damaged(input, edits: 4, resize: false), checksums: false) }
        }
        XCTAssertGreaterThan(opened, 100)  // 448 with this seed
    }

    /// Damage to the pickle alone, zipped with correct CRCs so that the unpickler sees it.
    func testDamagedPickles() throws {
        let tensors: [(String, [UInt8])] = [
            ("a", Pickle.tensor(count: 6, shape: [2, 3], strides: [3, 1])),
            ("b", Pickle.tensor(storage: "LongStorage", key: "1", count: 3, offset: 1, shape: [2], strides: [1])),
            ("c", Pickle.tensor(storage: "HalfStorage", key: "2", count: 4, shape: [2, 2], strides: [1, 2])),
        ]
        let pickle = Pickle.file(Pickle.orderedDict + [0x28] + tensors.flatMap { Pickle.string($0.0) + $0.1 } + [0x75])
        let storages = [("0", floatStorage(6)), ("1", floatStorage(6)), ("2", floatStorage(2))]
        XCTAssertEqual(try TorchArchive(bytes: torchArchive(pickle, storages: storages), name: "ok.pt").keys, ["a", "b", "c"])
        for _ in 0..<3000 { try readOrRefuse(torchArchive(damaged(pickle, edits: 3, resize: true), storages: storages)) }
        XCTAssertGreaterThan(opened, 0)
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
