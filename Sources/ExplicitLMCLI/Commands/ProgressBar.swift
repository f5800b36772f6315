import Foundation

/// A one-line progress bar on standard error: "[=====     ] done/total unit, rate/s".
struct ProgressBar {
    let total: Int
    /// What is counted ("texts", "embed keys", …).
    var unit = "texts"
    let start = DispatchTime.now().uptimeNanoseconds

    init(total: Int, unit: String = "texts") {
        self.total = total
        self.unit = unit
    }

    /// Where the bar was last drawn: a terminal redraws it at most every 0.2 s, a log (not a
    /// terminal) gets a line at every tenth of the work, so that logs stay short.
    private var lastDrawn: UInt64 = 0, lastTenth = -1
    private let interactive = isatty(STDERR_FILENO) == 1

    mutating func update(done: Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        let tenth = total == 0 ? 10 : 10 * min(done, total) / total
        if interactive {
            guard done >= total || now - lastDrawn >= 200_000_000 else { return }
        } else {
            guard tenth != lastTenth else { return }
        }
        lastDrawn = now
        lastTenth = tenth
        let width = 30
        let filled = total == 0 ? width : width * min(done, total) / total
        let seconds = Double(now - start) / 1e9
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let line = "[\(bar)] \(done)/\(total) \(unit), \(String(format: "%.1f", rate))/s"
        FileHandle.standardError.write(Data((interactive ? "\r" + line : line + "\n").utf8))
    }

    func finish() { if interactive { FileHandle.standardError.write(Data("\n".utf8)) } }
}
