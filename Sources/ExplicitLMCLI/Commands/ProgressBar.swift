import Foundation

/// A one-line progress bar on standard error: "[=====     ] done/total unit, rate/s".
struct ProgressBar {
    let total: Int
    /// What is counted ("texts", "embed keys", …).
    var unit = "texts"
    let start = DispatchTime.now().uptimeNanoseconds

    mutating func update(done: Int) {
        let width = 30
        let filled = total == 0 ? width : width * min(done, total) / total
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) \(unit), \(String(format: "%.1f", rate))/s".utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
