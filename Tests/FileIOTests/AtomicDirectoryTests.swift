import FileIO
import Foundation
import TestSupport
import XCTest

/// AtomicDirectory publishes files that belong together with one rename: a new directory appears
/// whole, an existing one is exchanged wholesale, and a failure or a kill leaves the old one.
final class AtomicDirectoryTests: InTemporaryDirectory {

    func write(_ files: [String: String], to url: URL, replacing: (URL) throws -> Void = { _ in }) throws {
        try AtomicDirectory.write(to: url, replacing: replacing) { tmp in
            for (name, text) in files { try AtomicFile.write(Array(text.utf8), to: tmp.appendingPathComponent(name)) }
        }
    }

    func testPublishesANewDirectoryThenReplacesItWholesale() throws {
        let model = dir.appendingPathComponent("model")
        try write(["config.json": "1", "model.safetensors": "1", "tokenizer.json": "1"], to: model)
        XCTAssertEqual(try entries(model), ["config.json", "model.safetensors", "tokenizer.json"])
        var seen: [URL] = []
        try write(["config.json": "2", "model.safetensors": "2"], to: model) { seen.append($0) }
        XCTAssertEqual(seen, [model])
        XCTAssertEqual(try entries(model), ["config.json", "model.safetensors"])
        XCTAssertEqual(try String(contentsOf: model.appendingPathComponent("config.json"), encoding: .utf8), "2")
        XCTAssertEqual(try entries(dir), ["model"])  // no temporary directory left
    }

    struct Refused: Error {}

    func testRefusalOrFailureKeepsTheOldDirectory() throws {
        let model = dir.appendingPathComponent("model")
        try write(["config.json": "old"], to: model)
        XCTAssertThrowsError(try write(["config.json": "new"], to: model) { _ in throw Refused() }) { XCTAssertTrue($0 is Refused) }
        XCTAssertThrowsError(try AtomicDirectory.write(to: model, replacing: { _ in }) { tmp in
            try AtomicFile.write(Array("new".utf8), to: tmp.appendingPathComponent("config.json"))
            throw Refused()
        }) { XCTAssertTrue($0 is Refused) }
        XCTAssertEqual(try String(contentsOf: model.appendingPathComponent("config.json"), encoding: .utf8), "old")
        XCTAssertEqual(try entries(dir), ["model"])
    }

    func testNonDirectoryTargetsAreRefused() throws {
        let file = dir.appendingPathComponent("file"), link = dir.appendingPathComponent("link")
        let fifo = dir.appendingPathComponent("fifo"), real = dir.appendingPathComponent("real")
        try Data("keep".utf8).write(to: file)
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        for (url, what) in [(file, "a regular file"), (link, "a symbolic link"), (fifo, "a FIFO")] {
            XCTAssertThrowsError(try write(["config.json": "x"], to: url)) {
                XCTAssertTrue("\($0)".contains("\(url.path): is \(what), not a directory"), "\($0)")
            }
        }
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "keep")
        XCTAssertEqual(try entries(real), [])
        XCTAssertEqual(try entries(dir), ["fifo", "file", "link", "real"])
    }

    static let childKey = "EXPLICITLM_EXPORT_CHILD_DIR"

    /// As the child of the kill test: publishes the directory over and over, both files holding the
    /// round's number (the weights padded to 4 MiB so that a kill lands mid-write).
    func testChildPublishesForever() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childKey] else { return }
        let model = URL(fileURLWithPath: path).appendingPathComponent("model")
        for round in 1... {
            try AtomicDirectory.write(to: model, replacing: { _ in }) { tmp in
                try AtomicFile.write(Array("\(round)".utf8), to: tmp.appendingPathComponent("config.json"))
                try AtomicFile.write(Array("\(round)\n".utf8) + [UInt8](repeating: 0, count: 4 << 20),
                                     to: tmp.appendingPathComponent("model.safetensors"))
            }
        }
    }

    /// SIGKILL at a few moments while a child publishes: the directory always holds one round's
    /// config and the same round's weights.
    func testKilledWhilePublishingLeavesOneCompleteDirectory() throws {
        if ProcessInfo.processInfo.environment[Self.childKey] != nil { return }
        let model = dir.appendingPathComponent("model")
        var rounds: [Int] = []
        for delay in [0.2, 0.35, 0.5] {
            try KilledChild.run("FileIOTests.AtomicDirectoryTests/testChildPublishesForever", environment: [Self.childKey: dir.path],
                                killAfter: delay)
            guard FileManager.default.fileExists(atPath: model.path) else { continue }  // killed before the first round
            XCTAssertEqual(try entries(model), ["config.json", "model.safetensors"])
            let config = try String(contentsOf: model.appendingPathComponent("config.json"), encoding: .utf8)
            let weights = try Data(contentsOf: model.appendingPathComponent("model.safetensors"))
            XCTAssertEqual(weights.count, config.utf8.count + 1 + (4 << 20))
            XCTAssertEqual(String(decoding: weights.prefix(while: { $0 != 10 }), as: UTF8.self), config, "weights and config of different rounds")
            rounds.append(Int(config) ?? 0)
        }
        XCTAssertFalse(rounds.isEmpty, "the child never published")
        let leftovers = try entries(dir).filter { $0.contains(".tmp-") }
        FileTarget.removeLeftovers(of: model)
        XCTAssertEqual(try entries(dir), ["model"])
        print("directory kill test: rounds \(rounds), temporary directories left by kills \(leftovers.count)")
    }
}
