import Compute
import Foundation
import Memory

/// The memory bank at scale (issue 9's speed and size goals): builds a bank of N synthetic facts
/// ("Entity names were born in / work for / … place."), then measures the bank's size on disk and
/// in memory, the time to open it, single-row edits, and lexical (BM25) retrieval, one thread.
func benchBank(_ options: [String: String]) throws {
    guard let tokenizerPath = options["tokenizer"] else { throw BenchError("--tokenizer PATH is required") }
    let n = Int(options["rows"] ?? "1048576") ?? 1_048_576
    let length = Int(options["length"] ?? "16") ?? 16
    let queries = Int(options["queries"] ?? "200") ?? 200
    let edits = Int(options["edits"] ?? "50") ?? 50
    let directory = URL(fileURLWithPath: options["out"] ?? NSTemporaryDirectory() + "bank-bench-\(getpid())")
    let tokenizer = try BankTokenizer(url: URL(fileURLWithPath: tokenizerPath))
    var config = MemoryConfig()
    config.knowledgeNum = n
    config.knowledgeLength = length

    var cut = 0
    let rows = (0..<n).lazy.map { i -> MemoryRow in
        let fact = SyntheticFact(i)
        let (tokens, objectLength, wasCut) = MemoryRow.entryTokens(sentence: fact.sentence, object: fact.object, tokenizer: tokenizer.tokenizer,
                                                                   length: length)
        if wasCut { cut += 1 }
        return MemoryRow(tokens: tokens, objectLength: objectLength, text: fact.sentence, uuid: "fact-\(i)", subject: fact.subject,
                         predicate: fact.predicate, object: fact.object, source: "synthetic", cell: -1)
    }
    // --reuse 1: measure a bank an earlier run left in --out (a fresh process: open's memory alone).
    let reuse = options["reuse"] == "1"
    let buildSeconds = reuse ? 0 : try seconds { try MemoryBank.create(at: directory, rows: rows, tokenizer: tokenizer, config: config) }
    defer { if options["out"] == nil { try? FileManager.default.removeItem(at: directory) } }
    var diskBytes = 0, fileBytes: [String: Int] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
        fileBytes[name] = (try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.size] as? Int) ?? 0
        diskBytes += fileBytes[name]!
    }

    let residentBefore = residentBytes()
    var opened: MemoryBank!
    let openSeconds = try seconds { opened = try MemoryBank.open(at: directory, tokenizer: tokenizer) }
    let bank = opened!
    let residentAfter = residentBytes()
    let viewBytes = 4 * (bank.tokens.count + bank.lengths.count + bank.cells.count)

    var generator = SeededGenerator(seed: 7)
    var queryTimes: [Double] = []
    var hits = 0
    let queryCPU = cpuSeconds()
    for _ in 0..<queries {
        let row = Int(generator.next() % UInt64(n))
        let fact = SyntheticFact(row)
        let query = "Where \(fact.subject) \(fact.predicate)?"
        var found: [LexicalRetriever.Candidate] = []
        queryTimes.append(seconds { found = bank.lexical.search(query, top: 16) })
        if found.contains(where: { $0.row == row }) { hits += 1 }
    }
    // CPU time as well as wall time: on a shared machine a query may wait for a core.
    let queryCPUSeconds = cpuSeconds() - queryCPU
    // Edits after the queries, so that every queried row holds its own fact.
    var editTimes: [Double] = []
    for e in 0..<edits {
        let row = Int(generator.next() % UInt64(n))
        let fact = SyntheticFact(Int(generator.next() % UInt64(n)))
        editTimes.append(try seconds { try bank.edit(row: row, MemoryChange(text: fact.sentence + " (edit \(e))", object: fact.object)) })
    }
    let integrity = try bank.integrityCheck()
    let forms = try bank.storageCounts()
    func milliseconds(_ times: [Double], _ q: Double) -> Double {
        times.isEmpty ? 0 : times.sorted()[min(times.count - 1, Int(q * Double(times.count)))] * 1000
    }
    printJSON([
        "rows": n, "knowledge_length": length, "rows_cut": reuse ? -1 : cut, "build_s": buildSeconds, "disk_bytes": diskBytes,
        "open_s": openSeconds, "open_resident_bytes": residentAfter - residentBefore, "resident_bytes": residentAfter, "view_bytes": viewBytes,
        "bm25_terms": bank.lexical.termCount, "bm25_postings": bank.lexical.postingCount,
        "edit_ms_median": milliseconds(editTimes, 0.5), "edit_ms_max": milliseconds(editTimes, 1),
        "query_ms_mean": queryTimes.reduce(0, +) / Double(max(1, queryTimes.count)) * 1000, "query_ms_median": milliseconds(queryTimes, 0.5),
        "query_cpu_ms_mean": queryCPUSeconds / Double(max(1, queries)) * 1000,
        "query_ms_p99": milliseconds(queryTimes, 0.99), "query_recall_at_16": Double(hits) / Double(max(1, queries)),
        "integrity": integrity, "database_bytes": fileBytes[MemoryBank.databaseName] ?? 0, "tokenizer_bytes": fileBytes["tokenizer.json"] ?? 0,
        "text_from_tokens": forms.textFromTokens, "subject_as_span": forms.subjectAsSpan, "object_from_tokens": forms.objectFromTokens,
    ])
}

/// Fact i of the synthetic knowledge base: a made-up two-part name (unique per i), one of a few
/// predicates, one of 4,096 places.
struct SyntheticFact {
    static let syllables = ["ka", "lo", "mir", "ta", "ven", "su", "ri", "dan", "el", "bor", "qui", "nes", "ha", "zu", "pel", "or"]
    static let predicates = ["was born in", "lives in", "works for a company in", "studied in", "died in", "is buried in", "was married in",
                             "plays football for a club in"]
    let subject: String
    let predicate: String
    let object: String
    var sentence: String { "\(subject) \(predicate) \(object)." }

    init(_ i: Int) {
        func word(_ v: Int, _ parts: Int) -> String {
            var v = v, s = ""
            for _ in 0..<parts {
                s += Self.syllables[v % 16]
                v /= 16
            }
            return s.prefix(1).uppercased() + s.dropFirst()
        }
        subject = word(i & 0x3ff, 3) + " " + word(i >> 10, 3)
        predicate = Self.predicates[(i / 7) % Self.predicates.count]
        object = word((i &* 2_654_435_761) >> 7 & 0xfff, 3) + "ville"
    }
}
