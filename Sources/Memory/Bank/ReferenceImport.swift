import Compute
import Encoders
import Foundation
import TorchFormat

/// A bank from the public reference implementation's files: `knowledge_cache.pt` (torch.save of an
/// int64 [N, L_k] tensor of token ids, rows right-padded with the pad id) and, optionally, `keys.pt`
/// (float32 [2, n, K/2], the k-means keys). Each row keeps its tokens exactly; its text is their
/// decoding, its key the embedding of that text, its cell the nearest keys' (or fresh k-means keys
/// when no keys.pt is given). The files are read by TorchFormat, which executes nothing.
extension MemoryBuilder {
    public static func importReference(
        cache: URL, keys keysURL: URL?, at url: URL, tokenizer: BankTokenizer, embedder: SentenceEmbedder, embedderName: String,
        config base: MemoryConfig, seed: UInt64, progress: Progress = { _, _, _ in }
    ) throws -> (bank: MemoryBank, report: Report) {
        let table = try TorchArchive.read(contentsOf: cache).tensor()
        guard table.dtype == .int64 || table.dtype == .int32, table.shape.count == 2, table.shape[0] >= 1, table.shape[1] >= 1 else {
            throw MemoryBankError("\(cache.path): expected an integer tensor [N, L_k] of token ids, found \(table.dtype) \(table.shape)")
        }
        let (N, L) = (table.shape[0], table.shape[1])
        var config = base
        config.knowledgeNum = N
        config.knowledgeLength = L
        config.knowledgeDim = embedder.dimension
        guard config.gridSide * config.gridSide == N else { throw MemoryBankError("\(cache.path): \(N) rows is not a perfect square (knowledge_num)") }
        let vocabulary = tokenizer.tokenizer.vocabularySize, pad = tokenizer.padTokenId
        let ids = try table.int64s()

        // Rows: the ids without their trailing pads; an all-pad row is an empty slot.
        var rows: [(row: Int, tokens: [Int32], text: String)] = []
        for r in 0..<N {
            var row = ids[(r * L)..<((r + 1) * L)].map { $0 }
            if let bad = row.firstIndex(where: { $0 < 0 || $0 >= Int64(vocabulary) }) {
                throw MemoryBankError("\(cache.path): row \(r), position \(bad - r * L): token id \(ids[bad]) is outside the tokenizer's \(vocabulary) ids")
            }
            while let last = row.last, last == Int64(pad) { row.removeLast() }
            guard !row.isEmpty else { continue }
            // A bank holds its facts in rows 0..<count; an empty row between facts would renumber
            // every row after it, and labels name rows.
            guard rows.count == r else {
                throw MemoryBankError("\(cache.path): row \(rows.count) is all padding but row \(r) holds tokens; the empty rows must come last")
            }
            let tokens = row.map { Int32($0) }
            rows.append((r, tokens, tokenizer.tokenizer.decode(tokens, skipSpecialTokens: true)))
            if r % 4096 == 4095 { progress("read rows", r + 1, N) }
        }
        progress("read rows", N, N)
        guard !rows.isEmpty else { throw MemoryBankError("\(cache.path): every row is padding") }

        let K = embedder.dimension
        let embeddings = try MemoryKeys.embed(rows.map { Fact(sentence: $0.text) }, with: embedder) { progress("embed keys", $0, $1) }
        let grid: KeyGrid
        if let keysURL {
            let keys = try TorchArchive.read(contentsOf: keysURL).tensor().float32()
            guard keys.shape == [2, config.gridSide, K / 2] else {
                throw MemoryBankError("\(keysURL.path): keys have shape \(keys.shape), expected [2, \(config.gridSide), \(K / 2)] for \(N) rows and the embedder's K = \(K)")
            }
            var cells = [Int32](repeating: -1, count: N)
            for (i, r) in rows.enumerated() { cells[r.row] = KeyGrid.nearestCell(embeddings.data + i * K, keys: keys) }
            grid = try KeyGrid(keys: keys, cells: cells)
        } else {
            // k-means over the rows present, then each cell moved to its bank row.
            let fit = KeyGrid.build(embeddings: embeddings.data, rows: rows.count, dim: K, side: config.gridSide, capacity: rows.count, seed: seed)
            var cells = [Int32](repeating: -1, count: N)
            for (i, r) in rows.enumerated() { cells[r.row] = fit.cells[i] }
            grid = try KeyGrid(keys: fit.keys, cells: cells)
        }
        let bankRows = rows.enumerated().lazy.map { i, r in
            MemoryRow(tokens: r.tokens, text: r.text, source: cache.lastPathComponent, cell: grid.cells[r.row],
                      key: Array(UnsafeBufferPointer(start: embeddings.data + i * K, count: K)))
        }
        let bank = try MemoryBank.create(at: url, rows: bankRows, tokenizer: tokenizer, config: config, keys: grid.keys, embedder: embedderName)
        let report = Report(facts: rows.count, knowledgeNum: N, knowledgeLength: L, knowledgeDim: K, cutRows: 0,
                            occupancy: MemoryKeys.describe(grid, candidates: config.numCandidates))
        return (bank, report)
    }
}
