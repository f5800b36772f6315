import Compute
import Foundation
import SafeTensors
import XCTest

/// After a BF16 tensor is converted, its mapped source pages are handed back to the kernel, so a
/// whole checkpoint is never resident twice.
final class ResidencyTests: XCTestCase {
    /// This process's resident file-backed memory in KiB (Linux), or nil elsewhere.
    private func rssFileKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("RssFile:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        }
        return nil
    }

    func testConvertedSourcePagesAreReleased() throws {
        let n = 8 << 20  // 16 MiB of BF16
        let url = try temporaryDirectory(self).appendingPathComponent("r.safetensors")
        var w = SafeTensorsWriter()
        w.add("w", bytes: [UInt8](repeating: 0x3F, count: 2 * n), shape: [n], dtype: .bf16)
        try w.write(to: url)
        let file = try SafeTensorsFile(url: url)
        guard let before = rssFileKiB() else { throw XCTSkip("no /proc/self/status: cannot measure residency here") }
        let bytes = try file.bytes("w")
        var sum = 0
        for i in stride(from: 0, to: bytes.count, by: 4096) { sum &+= Int(bytes[i]) }  // fault every page in
        XCTAssertEqual(sum, 0x3F * (bytes.count / 4096))
        let touched = try XCTUnwrap(rssFileKiB())
        XCTAssertGreaterThan(touched - before, 12 * 1024, "touching 16 MiB should make it resident")
        let t = try file.tensor("w")
        let after = try XCTUnwrap(rssFileKiB())
        XCTAssertLessThan(after - before, 1024, "the converted source pages should be released")
        XCTAssertEqual(t.data[n - 1], Float(bitPattern: 0x3F3F_0000))
    }
}
