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
        documentLength = [Int32](repeating: 0, count: rowCount)
        scores = [Double](repeating: 0, count: rowCount)
        // Every word occurrence as (term, row), then a counting sort by term keeps rows ascending
        // within a term when the texts come in row order, and sorts each term's rows otherwise.
        var occurrenceTerms: [Int32] = [], occurrenceRows: [Int32] = []
        var inOrder = true, previous = -1
        for (row, text) in texts {
            documentCount += 1
            inOrder = inOrder && row > previous
            previous = row
            var length: Int32 = 0
            LexicalWords.forEach(in: text) { word in
                occurrenceTerms.append(term(word))
                occurrenceRows.append(Int32(row))
                length += 1
            }
            documentLength[row] = length
            totalLength += Int(length)
        }
        let terms = termIds.count
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
        for t in 0..<terms {
            var last: Int32 = -1
            for row in postings[start[t]..<start[t + 1]] where row != last {
                documentFrequency[t] += 1
                last = row
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
            length += count
            var rows = overlay[t] ?? []
            let at = lowerBound(rows[...], Int32(row))
            rows.insert(contentsOf: repeatElement(Int32(row), count: Int(count)), at: at)
            overlay[t] = rows
        }
        documentLength[row] = length
        totalLength += Int(length)
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
        let from = lowerBound(rows[...], row)
        var to = from
        while to < rows.count, rows[to] == row { to += 1 }
        rows.removeSubrange(from..<to)
        overlay[t] = rows.isEmpty ? nil : rows
    }

    private func lowerBound(_ rows: ArraySlice<Int32>, _ row: Int32) -> Int {
        var lo = rows.startIndex, hi = rows.endIndex
        while lo < hi {
            let mid = (lo + hi) / 2
            if rows[mid] < row { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The `top` best rows for `query` by BM25, best first, ties to the lower row.
    ///
    /// Exact top-C with MaxScore pruning: the query's words are scored rarest first (fewest rows;
    /// ties in query order, which is also the order each row's score is summed in). A word adds at
    /// most idf · (k1 + 1) to a row, so once the words left could not lift a row that none of the
    /// words so far matched above the C-th best score, those words' postings are not walked: they
    /// are looked up (binary search) for the rows that can still reach the top C only. Frequent
    /// words ("the", "in") then cost O(C log postings) instead of a pass over the bank.
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
        // remaining[i]: the most the words i... can add to one row.
        var remaining = [Double](repeating: 0, count: terms.count + 1)
        for i in stride(from: terms.count - 1, through: 0, by: -1) { remaining[i] = remaining[i + 1] + idf[i] * (k1 + 1) }
        func weight(_ i: Int, tf: Int, row: Int32) -> Double {
            let tf = Double(tf)
            return idf[i] * tf * (k1 + 1) / (tf + k1 * (1 - b + lengthScale * Double(documentLength[Int(row)])))
        }

        // Walk whole posting lists while a row matching none of the words so far could still win.
        var next = 0
        while next < terms.count {
            forEachPosting(of: terms[next].term) { row, tf in
                if scores[Int(row)] == 0 { touched.append(row) }
                scores[Int(row)] += weight(next, tf: tf, row: row)
            }
            next += 1
            if next < terms.count, touched.count >= top, remaining[next] < best(touched, top).last!.score { break }
        }
        var rows = touched
        if next < terms.count {
            // Only rows that can still reach the C-th best score; the other words are looked up for them.
            let threshold = best(touched, top).last!.score
            rows = touched.filter { scores[Int($0)] + remaining[next] >= threshold }
            for i in next..<terms.count {
                for row in rows {
                    let tf = frequency(of: terms[i].term, in: row)
                    if tf > 0 { scores[Int(row)] += weight(i, tf: tf, row: row) }
                }
            }
        }
        let result = best(rows, top)
        for row in touched { scores[Int(row)] = 0 }
        touched.removeAll(keepingCapacity: true)
        return result
    }

    /// The `top` best of `rows` by their current scores.
    private func best(_ rows: [Int32], _ top: Int) -> [Candidate] {
        var best: [Candidate] = []
        best.reserveCapacity(top + 1)
        for row in rows {
            let candidate = Candidate(row: Int(row), score: scores[Int(row)])
            if best.count == top, let last = best.last, !Self.ranksBefore(candidate, last) { continue }
            var at = best.count
            while at > 0, Self.ranksBefore(candidate, best[at - 1]) { at -= 1 }
            best.insert(candidate, at: at)
            if best.count > top { best.removeLast() }
        }
        return best
    }

    /// Calls `body` with each current (row, tf) of term `t`: the static postings of rows not edited
    /// since the build, then the overlay.
    private func forEachPosting(of t: Int32, _ body: (Int32, Int) -> Void) {
        func runs(_ postings: ArraySlice<Int32>, skipStale: Bool) {
            var i = postings.startIndex
            while i < postings.endIndex {
                let row = postings[i]
                var j = i + 1
                while j < postings.endIndex, postings[j] == row { j += 1 }
                if !(skipStale && stale[Int(row)]) { body(row, j - i) }
                i = j
            }
        }
        if Int(t) + 1 < staticStart.count { runs(staticPostings[staticStart[Int(t)]..<staticStart[Int(t) + 1]], skipStale: true) }
        if let rows = overlay[t] { runs(rows[...], skipStale: false) }
    }

    /// tf of term `t` in `row`, by binary search.
    private func frequency(of t: Int32, in row: Int32) -> Int {
        func count(_ postings: ArraySlice<Int32>) -> Int {
            var i = lowerBound(postings, row), n = 0
            while i < postings.endIndex, postings[i] == row { n += 1; i += 1 }
            return n
        }
        if stale[Int(row)] { return overlay[t].map { count($0[...]) } ?? 0 }
        return Int(t) + 1 < staticStart.count ? count(staticPostings[staticStart[Int(t)]..<staticStart[Int(t) + 1]]) : 0
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
