import Foundation
import TorchFormat
import XCTest

/// Files torch.save (or pickle) wrote that hold something other than tensors: each refused with a
/// message naming the file and what it holds, and nothing in them executed.
final class RefusedFileTests: XCTestCase {
    private func assertRefused(_ file: String, _ parts: [String], line: UInt = #line) {
        let url = fixtures.appendingPathComponent(file)
        assertThrows([url.path] + parts, line: line) { _ = try TorchArchive.read(contentsOf: url) }
    }

    func testAPickledCallOfOsSystem() {
        assertRefused("evil.pt", ["evil/data.pkl", "opcode GLOBAL (0x63) at byte", "the global posix.system is not allowed"])
    }

    func testAListOfInts() {
        assertRefused("list.pt", ["list/data.pkl", "opcode EMPTY_LIST (0x5d) at byte 2 is not allowed"])
    }

    func testAWholeModule() {
        assertRefused("module.pt", ["the global torch.nn.modules.linear.Linear is not allowed"])
    }

    func testANestedStateDict() {
        assertRefused("nested.pt", ["the value of \"model\" is a dict, not a tensor"])
    }

    func testTheLegacyFormat() {
        assertRefused("legacy.pt", ["legacy torch.save format", "re-save it"])
    }

    func testCompressedEntries() {
        assertRefused("deflate.pt", ["entry \"keys/data.pkl\" is compressed (method 8, deflate)"])
    }

    func testAnExpandedView() {
        assertRefused("expanded.pt", ["the tensor: shape [4, 3], strides [0, 1], offset 0 has 12 elements, more than the 3 of its storage"])
    }

    func testAComplexTensor() {
        assertRefused("complex.pt", ["storage type torch.ComplexFloatStorage is not supported"])
    }
}
