import Foundation
import JSON
import Tokenizers
import XCTest

/// Locations of test inputs, found from this file's path (never the current directory).
enum TestData {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Tests/TokenizersTests/Fixtures")
    static let shared = packageRoot.appendingPathComponent("../shared/testdata").standardizedFileURL
    static let qwen3Dir = shared.appendingPathComponent("qwen3-tokenizer")

    /// The genuine Qwen3 tokenizer, loaded once; skips the test when ../shared is absent.
    static func qwen3() throws -> BPETokenizer {
        guard FileManager.default.fileExists(atPath: qwen3Dir.appendingPathComponent("tokenizer.json").path) else {
            throw XCTSkip("../shared/testdata/qwen3-tokenizer/tokenizer.json is absent; the Qwen3 tokenizer tests need it")
        }
        return try Loaded.shared.get()
    }

    static func fixture(_ name: String) throws -> JSONValue {
        let url = fixtures.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            XCTFail("missing fixture \(url.path)")
            throw TokenizerError("missing fixture \(url.path)")
        }
        return try JSONValue.parse([UInt8](data))
    }

    final class Loaded: @unchecked Sendable {
        static let shared = Loaded()
        private let lock = NSLock()
        private var tokenizer: BPETokenizer?
        func get() throws -> BPETokenizer {
            lock.lock(); defer { lock.unlock() }
            if let tokenizer { return tokenizer }
            let t = try BPETokenizer(url: TestData.qwen3Dir)
            tokenizer = t
            return t
        }
    }
}

/// The golden set made by scripts/make_tokenizer_goldens.py.
struct TokenizerGoldens {
    let texts: [String]
    let ids: [[Int32]]
    let decoded: [String]

    static func load() throws -> TokenizerGoldens {
        let json = try TestData.fixture("tokenizer_goldens.json")
        let texts = json["texts"]!.arrayValue!.map { $0.stringValue! }
        let ids = json["ids"]!.arrayValue!.map { $0.arrayValue!.map { Int32($0.intValue!) } }
        let decoded = json["decoded"]!.arrayValue!.map { $0.stringValue! }
        return TokenizerGoldens(texts: texts, ids: ids, decoded: decoded)
    }
}
