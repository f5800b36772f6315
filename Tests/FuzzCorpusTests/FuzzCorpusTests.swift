import Foundation
import FuzzTargets
import XCTest

/// Every committed fuzz input (seeds and the reproducers of fixed crashes) through its target, in
/// the normal build: a crash that came back would stop this test process.
final class FuzzCorpusTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/Corpus").standardizedFileURL

    func testEveryCorpusFileRunsThroughItsTarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).sorted()
        XCTAssertEqual(folders, FuzzTargets.all.map(\.name).sorted(), "one corpus folder per target in \(Self.corpus.path)")
        for target in FuzzTargets.all {
            let folder = Self.corpus.appendingPathComponent(target.name)
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            XCTAssertFalse(files.isEmpty, "\(target.name) has no seeds")
            for file in files {
                let data = try Data(contentsOf: folder.appendingPathComponent(file))
                XCTAssertLessThanOrEqual(data.count, target.maxLength, "\(target.name)/\(file) is longer than the fuzzer's -max_len")
                data.withUnsafeBytes { target.run($0) }
            }
        }
    }
}
