import FileIO
import Foundation
import XCTest

/// AtomicFile and AppendOnlyFile write only regular files, never through a link or into a FIFO or
/// device, and a failed write leaves the old file and no temporary file behind.
final class AtomicFileTests: InTemporaryDirectory {
    func entries() throws -> [String] { try entries(dir) }

    func testWritesAndReplacesARegularFileThroughAnUnpredictableTemporaryName() throws {
        let out = dir.appendingPathComponent("out.bin")
        var temporaries: [String] = []
        for text in ["first", "second"] {
            try AtomicFile.write(to: out) { sink in
                temporaries += try entries().filter { $0 != "out.bin" }
                try sink.write(Array(text.utf8))
            }
            XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), text)
        }
        XCTAssertEqual(try entries(), ["out.bin"])
        XCTAssertEqual(temporaries.count, 2)
        XCTAssertNotEqual(temporaries[0], temporaries[1])
        for name in temporaries {
            XCTAssertTrue(name.hasPrefix(".out.bin.tmp-"), name)
            XCTAssertEqual(name.dropFirst(".out.bin.tmp-".count).filter(\.isHexDigit).count, 16, name)
        }
    }

    func testSymbolicLinkAtTheTargetIsRefusedAndWhatItPointsToKept() throws {
        let victim = dir.appendingPathComponent("victim")
        try Data("keep".utf8).write(to: victim)
        let out = dir.appendingPathComponent("out.safetensors")
        try FileManager.default.createSymbolicLink(at: out, withDestinationURL: victim)
        XCTAssertThrowsError(try AtomicFile.write(Array("new".utf8), to: out)) {
            XCTAssertTrue("\($0)".contains("\(out.path): is a symbolic link"), "\($0)")
        }
        XCTAssertEqual(try String(contentsOf: victim, encoding: .utf8), "keep")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: out.path), victim.path)
        XCTAssertEqual(try entries(), ["out.safetensors", "victim"])
    }

    /// Links planted at the names an older version used (`NAME.tmp-<pid>`) and at every name that
    /// looks like a temporary file are never written through.
    func testPlantedLinksAtGuessableTemporaryNamesAreNotFollowed() throws {
        let victim = dir.appendingPathComponent("victim")
        try Data("keep".utf8).write(to: victim)
        let out = dir.appendingPathComponent("out")
        let planted = ["out.tmp-\(getpid())", ".out.tmp-", ".out.tmp-0000000000000000", ".out.tmp-ffffffffffffffff"]
        for name in planted {
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(name), withDestinationURL: victim)
        }
        try AtomicFile.write(Array("new".utf8), to: out)
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), "new")
        XCTAssertEqual(try String(contentsOf: victim, encoding: .utf8), "keep")
        XCTAssertEqual(try entries(), (planted + ["out", "victim"]).sorted())
    }

    func testFIFODeviceAndDirectoryTargetsAreRefusedAndLeftAsTheyAre() throws {
        let fifo = dir.appendingPathComponent("fifo")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        let directory = dir.appendingPathComponent("directory")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        var cases = [(fifo, "is a FIFO"), (directory, "is a directory")]
        let device = dir.appendingPathComponent("null")  // major 1, minor 3 as /dev/null, where mknod is allowed
        if mknod(device.path, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 { cases.append((device, "is a character device")) }
        for (url, what) in cases {
            let kind = try FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType
            XCTAssertThrowsError(try AtomicFile.write(Array("x".utf8), to: url)) {
                XCTAssertTrue("\($0)".contains("\(url.path): \(what), not a regular file"), "\($0)")
            }
            XCTAssertThrowsError(try AppendOnlyFile(url, truncate: false)) {
                XCTAssertTrue("\($0)".contains("\(url.path): \(what)"), "\($0)")
            }
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType, kind)
        }
        // The system's own device node is only looked at.
        XCTAssertThrowsError(try FileTarget.checkReplaceable("/dev/null")) {
            XCTAssertTrue("\($0)".contains("/dev/null: is a character device"), "\($0)")
        }
        XCTAssertEqual(try entries().filter { $0.contains(".tmp-") }, [])
    }

    struct Interrupted: Error {}

    func testFailureMidWriteLeavesTheOldFileAndNoTemporaryFile() throws {
        let out = dir.appendingPathComponent("checkpoint")
        try AtomicFile.write(Array("old contents".utf8), to: out)
        XCTAssertThrowsError(try AtomicFile.write(to: out) { sink in
            try sink.write([UInt8](repeating: 7, count: 1 << 20))
            throw Interrupted()
        }) { XCTAssertTrue($0 is Interrupted, "\($0)") }
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), "old contents")
        XCTAssertEqual(try entries(), ["checkpoint"])
    }

    func testMissingDirectoryIsAnErrorNamingThePath() throws {
        let out = dir.appendingPathComponent("missing/out")
        XCTAssertThrowsError(try AtomicFile.write(Array("x".utf8), to: out)) {
            XCTAssertTrue("\($0)".hasPrefix("\(out.path): cannot create a temporary file in \(dir.path)/missing"), "\($0)")
        }
    }

    func testAppendOnlyFileAppendsTruncatesAndRefusesALink() throws {
        let log = dir.appendingPathComponent("metrics.jsonl")
        try AppendOnlyFile(log, truncate: false).append("a\n")
        try AppendOnlyFile(log, truncate: false).append("b\n")
        XCTAssertEqual(try String(contentsOf: log, encoding: .utf8), "a\nb\n")
        try AppendOnlyFile(log, truncate: true).append("c\n")
        XCTAssertEqual(try String(contentsOf: log, encoding: .utf8), "c\n")

        let victim = dir.appendingPathComponent("victim")
        try Data("keep".utf8).write(to: victim)
        let link = dir.appendingPathComponent("planted.jsonl")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: victim)
        for truncate in [false, true] {
            XCTAssertThrowsError(try AppendOnlyFile(link, truncate: truncate)) {
                XCTAssertTrue("\($0)".contains("\(link.path): is a symbolic link"), "\($0)")
            }
        }
        XCTAssertEqual(try String(contentsOf: victim, encoding: .utf8), "keep")
    }
}

/// A test case that works in a fresh temporary directory `dir`, removed afterwards.
class InTemporaryDirectory: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fileio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The names in `url`, sorted.
    func entries(_ url: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() }
}
