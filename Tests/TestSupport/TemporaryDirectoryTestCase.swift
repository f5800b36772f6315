import Foundation
import XCTest

/// A test case with a fresh directory per test (`work`), removed afterwards.
open class TemporaryDirectoryTestCase: XCTestCase {
    public var work: URL!

    open override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("explicitlm-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    open override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }
}
