import Foundation
import TestSupport
import XCTest

/// What the command-line tests assert about a refused command, and how they read its JSON.
extension XCTestCase {
    /// The command exits non-zero (not by a signal) and says `expected` on standard error.
    func refused(_ arguments: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try CommandLineRunner.run(arguments)
        XCTAssertFalse(result.signaled, file: file, line: line)
        XCTAssertNotEqual(result.status, 0, "\(arguments.joined(separator: " ")) succeeded", file: file, line: line)
        XCTAssertTrue(result.stderr.contains(expected), "expected '\(expected)' in: \(result.stderr)", file: file, line: line)
    }

    /// A JSON object printed by a command.
    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
}
