import Compute
import Foundation
import Memory
import Qwen3
import SafeTensors
import TestSupport
import XCTest

/// `build-memory` and `memory show/edit/add/delete/history` as a user runs them, on a tiny Qwen3
/// (the backbone is the embedder) and a byte-level tokenizer.
final class MemoryCommandTests: TemporaryDirectoryTestCase {
    func run(_ arguments: [String], _ file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try CommandLineRunner.run(arguments)
        XCTAssertEqual(result.status, 0, "\(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result.stdout
    }

    func testBuildShowEditAddDeleteAndHistory() throws {
        let model = try HostileFiles.model(in: work, name: "m")
        let facts = [("Peru", "Lima"), ("Austria", "Vienna"), ("Chile", "Santiago"), ("Kenya", "Nairobi"), ("Japan", "Tokyo")]
        let kb = work.appendingPathComponent("kb.jsonl")
        try facts.enumerated().map { i, f in
            #"{"sentence": "The capital of \#(f.0) is \#(f.1).", "uuid": "u\#(i)", "subject": "\#(f.0)", "predicate": "capital", "object": "\#(f.1)"}"# + "\n"
        }.joined().write(to: kb, atomically: true, encoding: .utf8)
        let bank = work.appendingPathComponent("bank").path

        let built = try run(["build-memory", "--model", model.path, "--knowledge", kb.path, "--out", bank, "--seed", "3"])
        XCTAssertTrue(built.contains("5 facts in a bank of 64 rows (L_k 16, K 48)"), built)
        XCTAssertTrue(built.contains("rows cut to 16 tokens"), built)
        XCTAssertTrue(built.contains("recall ceiling at C = 16"), built)

        // Row 1 as the fusion reads it: the sentence cut so that the object's own tokens stay whole.
        let shown = try json(try run(["memory", "show", bank, "1", "--json"]))
        XCTAssertEqual(shown["text"] as? String, "The capital of Austria is Vienna.")
        XCTAssertEqual(shown["object"] as? String, "Vienna")
        let tokens = try XCTUnwrap(shown["tokens"] as? [Int]), objectTokens = try XCTUnwrap(shown["object_tokens"] as? [Int])
        XCTAssertEqual(tokens.count, 16)
        XCTAssertEqual(objectTokens, Array("Vienna".utf8).map(Int.init))  // byte tokens, no leading space
        XCTAssertEqual(Array(tokens.suffix(objectTokens.count)), objectTokens)

        // A second build with the same seed writes the same rows and cells.
        let again = work.appendingPathComponent("again").path
        _ = try run(["build-memory", "--model", model.path, "--knowledge", kb.path, "--out", again, "--seed", "3"])
        for row in 0..<5 { XCTAssertEqual(try run(["memory", "show", again, "\(row)", "--json"]), try run(["memory", "show", bank, "\(row)", "--json"])) }

        XCTAssertEqual(try run(["memory", "edit", bank, "1", "--text", "The capital of Austria is Graz.", "--object", "Graz"]), "1\n")
        let edited = try json(try run(["memory", "show", bank, "1", "--json"]))
        XCTAssertEqual(edited["object"] as? String, "Graz")
        XCTAssertEqual(edited["cell"] as? Int, shown["cell"] as? Int, "an edit keeps the row's cell")
        // A new key text is embedded again: the encoder retriever's exact re-scoring sees it.
        _ = try run(["memory", "edit", bank, "2", "--text", "The capital of Atlantis is Poseidonia.", "--subject", "Atlantis"])
        let byKey = try json(try run(["retrieve", "--memory", bank, "--query", "Atlantis capital", "--retriever", "encoder", "--top", "64", "--json"]))
        let hit = try XCTUnwrap((byKey["results"] as? [[String: Any]])?.first { $0["row"] as? Int == 2 })
        XCTAssertEqual(try XCTUnwrap(hit["score"] as? Double), 1, accuracy: 1e-5)

        let added = try run(["memory", "add", bank, "--text", "The capital of Peru is Cusco.", "--subject", "Peru", "--predicate", "capital", "--object", "Cusco"])
        let newRow = try XCTUnwrap(Int(added.trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertGreaterThanOrEqual(newRow, 5)
        XCTAssertEqual(try json(try run(["memory", "show", bank, "\(newRow)", "--json"]))["object"] as? String, "Cusco")

        XCTAssertEqual(try run(["memory", "delete", bank, "0"]), "0\n")
        let history = try json(try run(["memory", "history", bank, "--json"]))
        let edits = try XCTUnwrap(history["edits"] as? [[String: Any]])
        XCTAssertEqual(edits.map { $0["action"] as? String }, ["edit", "edit", "add", "delete"])
        XCTAssertEqual(edits.map { $0["row"] as? Int }, [1, 2, newRow, 0])
        XCTAssertEqual(try XCTUnwrap(try json(try run(["memory", "history", bank, "1", "--json"]))["edits"] as? [Any]).count, 1)

        try refused(["memory", "show", bank, "0"], "row 0 is empty")
        try refused(["memory", "edit", bank, "0", "--text", "x"], "row 0")
        try refused(["memory", "show", bank, "64"], "row 64 is outside the bank")
        try refused(["memory", "delete", bank, "--", "-3"], "row -3 is outside the bank")
        // The bank's tokenizer copy no longer matches the sha256 it was built with.
        let copy = URL(fileURLWithPath: bank).appendingPathComponent("tokenizer.json")
        try (try String(contentsOf: copy, encoding: .utf8)).replacingOccurrences(of: "<|im_end|>", with: "<|im_stop|>")
            .write(to: copy, atomically: true, encoding: .utf8)
        try refused(["memory", "show", bank, "1"], "the bank was built with another tokenizer")
    }

    func testBadKnowledgeBasesAreRefusedAndNoBankIsLeft() throws {
        let model = try HostileFiles.model(in: work, name: "m")
        let kb = work.appendingPathComponent("kb.jsonl")
        try "{\"sentence\": \"a\"}\n{\"sentence\": \"b\"\n".write(to: kb, atomically: true, encoding: .utf8)
        let bank = work.appendingPathComponent("bank")
        try refused(["build-memory", "--model", model.path, "--knowledge", kb.path, "--out", bank.path], "kb.jsonl:2: not valid JSON")
        try "{\"sentence\": \"a\"}\n{\"sentence\": \"b\"}\n".write(to: kb, atomically: true, encoding: .utf8)
        try refused(["build-memory", "--model", model.path, "--knowledge", kb.path, "--out", bank.path, "--knowledge-num", "1"],
                    "2 facts do not fit a bank of knowledge_num 1 rows")
        try refused(["build-memory", "--model", model.path, "--knowledge", kb.path, "--out", bank.path, "--knowledge-num", "10"],
                    "--knowledge-num 10 must be a perfect square")
        XCTAssertFalse(FileManager.default.fileExists(atPath: bank.path))
    }

    /// A bank of five capitals and its model, built through the command line.
    func capitals() throws -> (model: URL, bank: String) {
        let model = try HostileFiles.model(in: work, name: "m")
        let facts = [("Peru", "Lima"), ("Austria", "Vienna"), ("Chile", "Santiago"), ("Kenya", "Nairobi"), ("Japan", "Tokyo")]
        let kb = work.appendingPathComponent("capitals.jsonl")
        try facts.map { #"{"sentence": "The capital of \#($0.0) is \#($0.1).", "subject": "\#($0.0)", "predicate": "capital", "object": "\#($0.1)"}"# + "\n" }
            .joined().write(to: kb, atomically: true, encoding: .utf8)
        let bank = work.appendingPathComponent("capitals").path
        _ = try run(["build-memory", "--model", model.path, "--knowledge", kb.path, "--out", bank])
        return (model, bank)
    }

    func testRetrieveLogitsAndGenerateWithTheMemory() throws {
        let (model, bank) = try capitals()
        let found = try json(try run(["retrieve", "--memory", bank, "--query", "What is the capital of Austria?", "--top", "3", "--json"]))
        let results = try XCTUnwrap(found["results"] as? [[String: Any]])
        XCTAssertEqual(results.first?["row"] as? Int, 1)
        XCTAssertEqual(results.first?["text"] as? String, "The capital of Austria is Vienna.")
        XCTAssertEqual(found["query"] as? String, "What is the capital of Austria?")
        let hybrid = try json(try run(["retrieve", "--memory", bank, "--query", "Austria capital", "--retriever", "hybrid", "--json"]))
        XCTAssertEqual((hybrid["results"] as? [[String: Any]])?.first?["row"] as? Int, 1)

        // Fresh memory weights (o_proj zero): the logits are the backbone's, bit for bit.
        let backbone = try Qwen3Model.load(directory: model)
        var config = MemoryConfig()
        config.fusionHeads = 2; config.fusionHeadDim = 8; config.fusionRank = 0
        let memory = try MemoryModel(config: config, backbone: backbone)
        memory.initialize(seed: 1)
        let fresh = work.appendingPathComponent("fresh.safetensors")
        try memory.save(to: fresh)
        let ids = "84,104,101,32,99,97,112,105,116,97,108"  // "The capital"
        func logits(_ extra: [String]) throws -> [Float] {
            let out = work.appendingPathComponent("logits-\(UUID().uuidString).safetensors")
            _ = try run(["logits", "--model", model.path, "--ids", ids, "--out", out.path] + extra)
            return try SafeTensorsFile(url: out).tensor("logits").array
        }
        let plain = try logits([])
        XCTAssertEqual(try logits(["--memory", bank, "--checkpoint", fresh.path, "--query", "capital of Austria"]), plain)

        // Trained-looking weights (o_proj non-zero): the memory changes the logits, and generation
        // reports the row it read.
        var rng = SeededGenerator(seed: 2)
        for p in memory.parameters where p.name.contains("o_proj") { for i in 0..<p.value.count { p.value.data[i] = Float(rng.normal()) } }
        let trained = work.appendingPathComponent("trained.safetensors")
        try memory.save(to: trained)
        XCTAssertNotEqual(try logits(["--memory", bank, "--checkpoint", trained.path, "--query", "capital of Austria"]), plain)
        let answer = try json(try run(["generate", "--model", model.path, "--ids", ids, "--max-new-tokens", "4", "--json",
                                       "--memory", bank, "--checkpoint", trained.path, "--query", "What is the capital of Austria?"]))
        XCTAssertEqual((answer["ids"] as? [Int])?.count, 4)
        XCTAssertEqual((answer["memory"] as? [[String: Any]])?.map { $0["row"] as? Int }, [1])
        let shown = try run(["generate", "--model", model.path, "--prompt", "What is the capital of Kenya?", "--max-new-tokens", "3",
                             "--memory", bank, "--checkpoint", trained.path, "--show-memory"])
        XCTAssertTrue(shown.contains("memory: row 3 (score "), shown)
        XCTAssertTrue(shown.contains("The capital of Kenya is Nairobi."), shown)

        try refused(["generate", "--model", model.path, "--ids", ids, "--memory", bank], "--memory and --checkpoint go together")
        try refused(["generate", "--model", model.path, "--ids", ids, "--show-memory"], "--show-memory needs --memory")
        var longer = config
        longer.knowledgeLength = 8
        let mismatched = work.appendingPathComponent("l8.safetensors")
        try MemoryModel(config: longer, backbone: backbone).save(to: mismatched)
        try refused(["logits", "--model", model.path, "--ids", ids, "--out", work.appendingPathComponent("x.safetensors").path,
                     "--memory", bank, "--checkpoint", mismatched.path], "knowledge_length 8 differs from the bank's 16")
    }

    /// The dense retriever: a MemoryGate over the bank's keys, from the prompt's query state, in
    /// `retrieve` and in `generate` (which reads the row the gate ranks first).
    func testDenseRetrieverInRetrieveAndGenerate() throws {
        let (model, bank) = try capitals()
        let backbone = try Qwen3Model.load(directory: model)
        var config = MemoryConfig()
        config.fusionHeads = 2; config.fusionHeadDim = 8; config.fusionRank = 0
        config.retriever = .dense; config.knowledgeDim = backbone.config.hiddenSize; config.memoryLayers = [0]
        let memory = try MemoryModel(config: config, backbone: backbone)
        memory.initialize(seed: 3)
        var rng = SeededGenerator(seed: 4)
        for p in memory.parameters where p.name.contains("o_proj") { for i in 0..<p.value.count { p.value.data[i] = Float(rng.normal()) } }
        let checkpoint = work.appendingPathComponent("dense.safetensors")
        try memory.save(to: checkpoint)

        let question = "What is the capital of Kenya?"
        let found = try json(try run(["retrieve", "--memory", bank, "--query", question, "--model", model.path,
                                      "--checkpoint", checkpoint.path, "--top", "3", "--json"]))
        let rows = try XCTUnwrap(found["results"] as? [[String: Any]]).compactMap { $0["row"] as? Int }
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(Set(rows).count, 3)
        let five = try json(try run(["retrieve", "--memory", bank, "--query", question, "--model", model.path,
                                     "--checkpoint", checkpoint.path, "--retriever", "dense", "--top", "5", "--json"]))
        XCTAssertEqual(Array(try XCTUnwrap(five["results"] as? [[String: Any]]).compactMap { $0["row"] as? Int }.prefix(3)), rows,
                       "the cells are walked best first: a longer list starts with the shorter")

        let answer = try json(try run(["generate", "--model", model.path, "--prompt", question, "--max-new-tokens", "3",
                                       "--json", "--memory", bank, "--checkpoint", checkpoint.path]))
        XCTAssertEqual((answer["memory"] as? [[String: Any]])?.map { $0["row"] as? Int }, [rows[0]], "argmax reads the gate's best row")

        try refused(["generate", "--model", model.path, "--prompt", question, "--memory", bank, "--checkpoint", checkpoint.path,
                     "--query", "Kenya"], "the dense retriever of")
        try refused(["retrieve", "--memory", bank, "--query", question, "--checkpoint", checkpoint.path],
                    "--retriever dense needs --model (the backbone) and --checkpoint")
        try refused(["retrieve", "--memory", bank, "--query", question, "--model", model.path, "--checkpoint", checkpoint.path,
                     "--layer", "1"], "--layer 1 is not a memory layer of")
        try refused(["retrieve", "--memory", bank, "--query", question, "--layer", "0"], "--layer and --chat are for the dense retriever")
    }

    /// The reference implementation's knowledge_cache.pt and keys.pt (scripts/make_reference_bank_fixtures.py)
    /// import as a bank whose rows keep their token ids exactly.
    func testImportTheReferenceCacheAndKeys() throws {
        let model = try HostileFiles.model(in: work, name: "m")
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let cache = fixtures.appendingPathComponent("knowledge_cache.pt").path, keys = fixtures.appendingPathComponent("keys.pt").path
        for extra in [["--keys", keys], []] {
            let bank = work.appendingPathComponent("bank-\(extra.count)").path
            let built = try run(["build-memory", "--model", model.path, "--cache", cache, "--out", bank] + extra)
            XCTAssertTrue(built.contains("12 facts in a bank of 16 rows (L_k 8, K 48)"), built)
            let row = try json(try run(["memory", "show", bank, "1", "--json"]))
            XCTAssertEqual(row["text"] as? String, "Vienna, ")
            XCTAssertEqual(row["tokens"] as? [Int], Array("Vienna, ".utf8).map(Int.init))
            XCTAssertEqual(try json(try run(["memory", "show", bank, "2", "--json"]))["tokens"] as? [Int], Array("Tokyo".utf8).map(Int.init))
            try refused(["memory", "show", bank, "12"], "row 12 is empty")
            let found = try json(try run(["retrieve", "--memory", bank, "--query", "Tokyo", "--json"]))
            XCTAssertEqual((found["results"] as? [[String: Any]])?.first?["row"] as? Int, 2)
        }
        // keys.pt must fit the embedder; the cache must be token ids.
        try refused(["build-memory", "--model", model.path, "--cache", cache, "--keys", cache, "--out", work.appendingPathComponent("x").path],
                    "knowledge_cache.pt")
        try refused(["build-memory", "--model", model.path, "--cache", keys, "--out", work.appendingPathComponent("y").path],
                    "expected an integer tensor [N, L_k] of token ids")
        try refused(["build-memory", "--model", model.path, "--keys", keys, "--knowledge", cache, "--out", work.appendingPathComponent("z").path],
                    "--keys goes with --cache")
        try refused(["build-memory", "--model", model.path, "--cache", fixtures.appendingPathComponent("gap.pt").path,
                     "--out", work.appendingPathComponent("g").path], "row 1 is all padding but row 2 holds tokens")
    }
}

