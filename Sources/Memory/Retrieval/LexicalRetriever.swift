import Foundation

/// Lexical candidates (method §4): BM25 (k1 = 1.2, b = 0.75) between the query text's words and each
/// bank row's words, through an inverted index that every edit keeps current.
///
/// **Words.** A word is a maximal run of Unicode scalars whose general category is a letter (L*),
/// a mark (M*) or a number (N*); everything else separates words. Each scalar is lower-cased by its
/// full Unicode lower-case mapping, one scalar at a time (no context rules such as the final sigma).
/// `scripts/make_bm25_golden.py` is the Python reference of the same definition and scoring.
///
/// **Scoring.** Documents are the bank's non-empty rows (length > 0), their words those of the row's
/// text. With N_d documents, average document length avgdl, and for each distinct query word t that
/// occurs in df_t rows: idf_t = ln(1 + (N_d − df_t + 0.5) / (df_t + 0.5)) (always positive), and a row
/// with tf_t occurrences among its dl words scores
/// Σ_t idf_t · tf_t · (k1 + 1) / (tf_t + k1 · (1 − b + b · dl / avgdl)). A repeated query word counts
/// once. Rows that share no word with the query are not candidates. The top C rows come back by
/// score, ties to the lower row.
///
/// **Index.** Built at once from every row (`init(rowCount:texts:)`): term → postings in CSR form,
/// each posting a row, repeated tf times, rows ascending. An edit marks its row stale in that static
/// part (a query skips it there) and files the row's new words in a small per-term overlay; df, the
/// document lengths and their sum are updated in place, so scores after an edit equal those of a
/// fresh build. A query reads only the postings of its own words (see `search` for the pruning).
///
/// A query uses scratch buffers of the retriever: one query at a time per retriever.
public final class LexicalRetriever {
    public static let k1 = 1.2
    public static let b = 0.75

    /// One retrieved row and its BM25 score.
    public struct Candidate: Sendable, Equatable {
        public let row: Int
        public let score: Double
    }

    public let rowCount: Int
    private var termIds: [String: Int32] = [:]
    /// Rows holding each term (current, static part and overlay together).
    private var documentFrequency: [Int32] = []
    /// At least the largest tf of each term in any row (raised by edits, never lowered).
    private var maxFrequency: [Int32] = []
    /// At most the shortest non-empty row's length (lowered by edits, never raised).
    private var minimumLength = Int32.max
    /// The static CSR: postings of term t are staticPostings[staticStart[t] ..< staticStart[t + 1]].
    private var staticStart: [Int] = [0]
    private var staticPostings: [Int32] = []
    /// Rows edited since the static part was built: their static postings no longer count.
    private var stale: [Bool]
    /// Postings of edited rows by term (a row repeated tf times, rows ascending).
    private var overlay: [Int32: [Int32]] = [:]
    /// Words of each row; 0 for an empty row.
    private var documentLength: [Int32]
    /// Non-empty rows and the sum of their lengths.
    public private(set) var documentCount = 0
    private var totalLength = 0

    private var scores: [Double]
    private var touched: [Int32] = []

    /// Postings in the index (static and overlay), for size reports.
    public var postingCount: Int { staticPostings.count + overlay.values.reduce(0) { $0 + $1.count } }
    public var termCount: Int { termIds.count }

    /// Builds the index of `rowCount` rows from the texts of the non-empty ones, in any order.
    public init(rowCount: Int, texts: [(row: Int, text: String)]) {
        self.rowCount = rowCount
        stale = [Bool](repeating: false, count: rowCount)
        scores = [Double](repeating: 0, count: rowCount)
        // Every word occurrence as (term, row), then a counting sort by term keeps rows ascending
        // within a term when the texts come in row order, and sorts each term's rows otherwise.
        // Local arrays while building: a class's properties are checked for exclusive access at
        // every use.
        var ids: [String: Int32] = [:]
        var lengths = [Int32](repeating: 0, count: rowCount)
        var occurrenceTerms: [Int32] = [], occurrenceRows: [Int32] = []
        var inOrder = true, previous = -1
        for (row, text) in texts {
            inOrder = inOrder && row > previous
            previous = row
            var length: Int32 = 0
            LexicalWords.forEach(in: text) { word in
                if let id = ids[word] {
                    occurrenceTerms.append(id)
                } else {
                    occurrenceTerms.append(Int32(ids.count))
                    ids[word] = Int32(ids.count)
                }
                occurrenceRows.append(Int32(row))
                length += 1
            }
            lengths[row] = length
            totalLength += Int(length)
            minimumLength = min(minimumLength, length)
        }
        documentCount = texts.count
        documentLength = lengths
        termIds = ids
        let terms = ids.count
        var start = [Int](repeating: 0, count: terms + 1)
        for t in occurrenceTerms { start[Int(t) + 1] += 1 }
        for t in 0..<terms { start[t + 1] += start[t] }
        var next = start
        var postings = [Int32](repeating: 0, count: occurrenceTerms.count)
        for (t, row) in zip(occurrenceTerms, occurrenceRows) {
            postings[next[Int(t)]] = row
            next[Int(t)] += 1
        }
        if !inOrder { for t in 0..<terms { postings[start[t]..<start[t + 1]].sort() } }
        documentFrequency = [Int32](repeating: 0, count: terms)
        maxFrequency = [Int32](repeating: 0, count: terms)
        for t in 0..<terms {
            var i = start[t]
            while i < start[t + 1] {
                var j = i + 1
                while j < start[t + 1], postings[j] == postings[i] { j += 1 }
                documentFrequency[t] += 1
                maxFrequency[t] = max(maxFrequency[t], Int32(j - i))
                i = j
            }
        }
        staticStart = start
        staticPostings = postings
    }

    /// The id of `word`, new words getting the next one (they have no static postings).
    private func term(_ word: String) -> Int32 {
        if let id = termIds[word] { return id }
        let id = Int32(termIds.count)
        termIds[word] = id
        documentFrequency.append(0)
        maxFrequency.append(0)
        return id
    }

    /// Brings `row` from `old` text to `new` text; nil is an empty row. `old` must be the text the
    /// index holds for the row.
    public func update(row: Int, old: String?, new: String?) {
        if let old {
            documentCount -= 1
            totalLength -= Int(documentLength[row])
            for (t, _) in termCounts(old) {
                documentFrequency[Int(t)] -= 1
                if stale[row] { removeOverlay(row: Int32(row), term: t) }
            }
        }
        stale[row] = true
        documentLength[row] = 0
        guard let new else { return }
        documentCount += 1
        var length: Int32 = 0
        for (t, count) in termCounts(new) {
            documentFrequency[Int(t)] += 1
            maxFrequency[Int(t)] = max(maxFrequency[Int(t)], count)
            length += count
            var rows = overlay[t] ?? []
            let at = Self.lowerBound(rows[...], Int32(row))
            rows.insert(contentsOf: repeatElement(Int32(row), count: Int(count)), at: at)
            overlay[t] = rows
        }
        documentLength[row] = length
        totalLength += Int(length)
        minimumLength = min(minimumLength, length)
    }

    /// Each distinct term of `text` with its count, new words registered.
    private func termCounts(_ text: String) -> [(Int32, Int32)] {
        var counts: [Int32: Int32] = [:]
        var order: [Int32] = []
        LexicalWords.forEach(in: text) { word in
            let t = term(word)
            if counts[t] == nil { order.append(t) }
            counts[t, default: 0] += 1
        }
        return order.map { ($0, counts[$0]!) }
    }

    private func removeOverlay(row: Int32, term t: Int32) {
        guard var rows = overlay[t] else { return }
        let from = Self.lowerBound(rows[...], row)
        var to = from
        while to < rows.count, rows[to] == row { to += 1 }
        rows.removeSubrange(from..<to)
        overlay[t] = rows.isEmpty ? nil : rows
    }

    /// The first index at or after `start` whose row is at least `row`: steps of 1, 2, 4, … then a
    /// binary search in the last step.
    private static func gallop(_ rows: ArraySlice<Int32>, from start: Int, to row: Int32) -> Int {
        var lo = start, hi = start, step = 1
        while hi < rows.endIndex, rows[hi] < row {
            lo = hi + 1
            hi = lo + step
            step *= 2
        }
        return lowerBound(rows[lo..<min(hi, rows.endIndex)], row)
    }

    private static func lowerBound(_ rows: ArraySlice<Int32>, _ row: Int32) -> Int {
        var lo = rows.startIndex, hi = rows.endIndex
        while lo < hi {
            let mid = (lo + hi) / 2
            if rows[mid] < row { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The `top` best rows for `query` by BM25, best first, ties to the lower row.
    ///
    /// Exact top-C with MaxScore pruning. The query's words are scored rarest first (fewest rows;
    /// ties in query order, which is also the order each row's score is summed in). A word adds at
    /// most its weight at its largest tf in a row of the shortest length, so once the words left
    /// could not lift a row that none of the words so far matched above the C-th best score (of the
    /// scores so far, or, while few rows are seen, of their final scores), those words' postings are
    /// not walked: they are looked up for the rows that can still reach the top C. Frequent words
    /// ("the", "in") then cost a search per candidate instead of a pass over the bank.
    public func search(_ query: String, top: Int) -> [Candidate] {
        guard top > 0, documentCount > 0 else { return [] }
        var seen: Set<Int32> = []
        var terms: [(term: Int32, df: Int32, position: Int)] = []
        LexicalWords.forEach(in: query) { word in
            if let t = termIds[word], documentFrequency[Int(t)] > 0, seen.insert(t).inserted {
                terms.append((t, documentFrequency[Int(t)], terms.count))
            }
        }
        terms.sort { ($0.df, $0.position) < ($1.df, $1.position) }
        let k1 = Self.k1, b = Self.b
        let averageLength = Double(totalLength) / Double(documentCount)
        let lengthScale = averageLength > 0 ? b / averageLength : 0
        let idf = terms.map { Foundation.log(1 + (Double(documentCount) - Double($0.df) + 0.5) / (Double($0.df) + 0.5)) }
        // remaining[i]: the most the words i... can add to one row. A word's weight grows with tf and
        // shrinks with the row's length, so its largest tf in a row of the shortest length bounds it
        // (raised by a hair so that rounding cannot make a bound smaller than a weight).
        var remaining = [Double](repeating: 0, count: terms.count + 1)
        let shortest = k1 * (1 - b + lengthScale * Double(minimumLength))
        for i in stride(from: terms.count - 1, through: 0, by: -1) {
            let tf = Double(maxFrequency[Int(terms[i].term)])
            remaining[i] = remaining[i + 1] + idf[i] * tf * (k1 + 1) / (tf + shortest) * (1 + 1e-9)
        }

        // The loops below work on local arrays: a class's properties would be checked for exclusive
        // access at every posting.
        var scores = self.scores, touched = self.touched
        self.scores = []
        self.touched = []
        let stale = self.stale, lengths = documentLength, postings = staticPostings, starts = staticStart
        func weight(_ i: Int, _ row: Int32, tf: Int) -> Double {
            let tf = Double(tf)
            return idf[i] * tf * (k1 + 1) / (tf + k1 * (1 - b + lengthScale * Double(lengths[Int(row)])))
        }
        func add(_ i: Int, _ row: Int32, tf: Int) {
            if scores[Int(row)] == 0 { touched.append(row) }
            scores[Int(row)] += weight(i, row, tf: tf)
        }
        /// The term's current postings: static ones of rows not edited since the build, then the overlay.
        func lists(_ t: Int32) -> [(ArraySlice<Int32>, skipStale: Bool)] {
            var out: [(ArraySlice<Int32>, skipStale: Bool)] = []
            if Int(t) + 1 < starts.count { out.append((postings[starts[Int(t)]..<starts[Int(t) + 1]], true)) }
            if let rows = overlay[t] { out.append((rows[...], false)) }
            return out
        }

        /// The final scores of those of `rows` (ascending) that can still be among their best C: their
        /// scores so far plus words first... looked up, each list searched from where the previous row
        /// was found (galloping), so at most one pass over a list however many rows are looked up.
        /// After each word the rows that can no longer reach the C-th best are dropped, so the most
        /// frequent words, looked up last, are looked up for few rows. Summed word by word, as the
        /// walk sums.
        func completed(_ rows: [Int32], from first: Int) -> (rows: [Int32], finals: [Double]) {
            var rows = rows
            var finals = rows.map { scores[Int($0)] }
            for i in first..<terms.count {
                var from = lists(terms[i].term).map { ($0.0, $0.skipStale, $0.0.startIndex) }
                for (n, row) in rows.enumerated() {
                    var tf = 0
                    for l in from.indices {
                        var k = Self.gallop(from[l].0, from: from[l].2, to: row)
                        from[l].2 = k
                        guard !(from[l].1 && stale[Int(row)]) else { continue }
                        while k < from[l].0.endIndex, from[l].0[k] == row { tf += 1; k += 1 }
                    }
                    if tf > 0 { finals[n] += weight(i, row, tf: tf) }
                }
                guard i + 1 < terms.count, rows.count > top else { continue }
                let threshold = Self.cthBest(finals, top)
                let keep = finals.indices.filter { finals[$0] + remaining[i + 1] >= threshold }
                rows = keep.map { rows[$0] }
                finals = keep.map { finals[$0] }
            }
            return (rows, finals)
        }

        // Walk whole posting lists while a row matching none of the words so far could still win:
        // while the words left could lift such a row above the C-th best score so far, or, when few
        // rows are seen, above the C-th best of their final scores.
        var next = 0
        var rows: [Int32]?
        while next < terms.count, rows == nil {
            for (list, skipStale) in lists(terms[next].term) {
                var i = list.startIndex
                while i < list.endIndex {
                    let row = list[i]
                    var j = i + 1
                    while j < list.endIndex, list[j] == row { j += 1 }
                    if !(skipStale && stale[Int(row)]) { add(next, row, tf: j - i) }
                    i = j
                }
            }
            next += 1
            guard next < terms.count, touched.count >= top else { continue }
            let threshold = Self.best(touched, scores, top).last!.score
            if remaining[next] < threshold {
                // Only rows that can still reach the C-th best score; the other words are looked up for them.
                let (candidates, finals) = completed(touched.filter { scores[Int($0)] + remaining[next] >= threshold }.sorted(), from: next)
                for (row, score) in zip(candidates, finals) { scores[Int(row)] = score }
                rows = candidates
            } else if touched.count <= max(4096, 64 * top) {
                let (seen, finals) = completed(touched.sorted(), from: next)
                if seen.count >= top, remaining[next] < Self.cthBest(finals, top) {
                    for (row, score) in zip(seen, finals) { scores[Int(row)] = score }
                    rows = seen
                }
            }
        }
        let result = Self.best(rows ?? touched, scores, top)
        for row in touched { scores[Int(row)] = 0 }
        touched.removeAll(keepingCapacity: true)
        self.scores = scores
        self.touched = touched
        return result
    }

    /// The `top` best of `rows` by `scores`.
    private static func best(_ rows: [Int32], _ scores: [Double], _ top: Int) -> [Candidate] {
        var best: [Candidate] = []
        best.reserveCapacity(top + 1)
        for row in rows {
            let candidate = Candidate(row: Int(row), score: scores[Int(row)])
            if best.count == top, let last = best.last, !ranksBefore(candidate, last) { continue }
            var at = best.count
            while at > 0, ranksBefore(candidate, best[at - 1]) { at -= 1 }
            best.insert(candidate, at: at)
            if best.count > top { best.removeLast() }
        }
        return best
    }

    /// The `top`-th largest of `values` (at least `top` of them).
    private static func cthBest(_ values: [Double], _ top: Int) -> Double {
        best(Array(0..<Int32(values.count)), values, top).last!.score
    }

    private static func ranksBefore(_ a: Candidate, _ b: Candidate) -> Bool {
        a.score > b.score || (a.score == b.score && a.row < b.row)
    }
}

/// The words BM25 compares (see `LexicalRetriever`): maximal runs of letters, marks and numbers,
/// lower-cased scalar by scalar.
public enum LexicalWords {
    public static func words(_ text: String) -> [String] {
        var out: [String] = []
        forEach(in: text) { out.append($0) }
        return out
    }

    /// Calls `body` with each word of `text` in order. ASCII is classified and lower-cased directly;
    /// other scalars by their Unicode properties.
    public static func forEach(in text: String, _ body: (String) -> Void) {
        var text = text
        text.withUTF8 { bytes in
            var word: [UInt8] = []
            word.reserveCapacity(64)
            func flush() {
                if !word.isEmpty {
                    body(String(decoding: word, as: UTF8.self))
                    word.removeAll(keepingCapacity: true)
                }
            }
            var i = 0
            while i < bytes.count {
                let lead = bytes[i]
                if lead < 0x80 {
                    switch lead {
                    case 0x61...0x7a, 0x30...0x39: word.append(lead)
                    case 0x41...0x5a: word.append(lead + 0x20)
                    default: flush()
                    }
                    i += 1
                    continue
                }
                // A String's bytes are valid UTF-8: the lead byte gives the length.
                let length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2
                var value = UInt32(lead) & (length == 2 ? 0x1f : length == 3 ? 0x0f : 0x07)
                for k in 1..<length { value = value << 6 | UInt32(bytes[i + k] & 0x3f) }
                i += length
                guard let scalar = Unicode.Scalar(value), isWordScalar(scalar) else { flush(); continue }
                word.append(contentsOf: scalar.properties.lowercaseMapping.utf8)
            }
            flush()
        }
    }

    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }
}
