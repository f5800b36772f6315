import FileIO
import Foundation
import JSON

/// What the training loops share about their logs: metrics.jsonl on resume, and time left as a clock.
enum TrainingLog {
    /// On resume, drops the metrics lines of steps after the checkpoint (a run killed between saves).
    static func keepMetrics(_ url: URL, upTo last: Int) throws {
        // Only a regular file is read: not a FIFO that blocks, not a link planted there.
        guard try FileTarget.checkReplaceable(url.path), let text = try? String(contentsOf: url, encoding: .utf8) else {
            try AtomicFile.write([], to: url)
            return
        }
        let kept = text.split(separator: "\n").filter { line in
            guard let s = (try? JSONValue.parse(Array(line.utf8)))?["step"]?.intValue else { return false }
            return s <= last
        }
        try AtomicFile.write(kept.map { $0 + "\n" }.joined().utf8, to: url)
    }

    /// h:mm:ss, or "?" before there is an estimate.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
    }
}
