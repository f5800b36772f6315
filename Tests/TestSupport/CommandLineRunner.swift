import Foundation
import XCTest

/// Runs the `explicitlm` binary that `swift build --build-tests` puts beside the test bundle, for
/// tests of the command line as a user calls it.
public enum CommandLineRunner {
    public struct Result {
        /// The exit status, or the signal when `signaled`.
        public let status: Int32
        /// Whether a signal ended the process (a crash, not an error exit).
        public let signaled: Bool
        public let stdout: String
        public let stderr: String
    }

    /// The explicitlm binary built beside this test bundle.
    public static func binary() throws -> URL {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("explicitlm")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw XCTSkip("the explicitlm binary is not beside the test bundle in \(dir.path) (build with --build-tests)")
    }

    /// Runs `explicitlm arguments…` to completion. Output goes through temporary files, so a
    /// chatty child can never block on a full pipe. `memoryLimitBytes` caps the child's address
    /// space (ulimit -v), so an allocation the input does not justify fails instead of succeeding.
    public static func run(_ arguments: [String], stdin: Data = Data(), memoryLimitBytes: Int? = nil) throws -> Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("explicitlm-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = ["in", "out", "err"].map { dir.appendingPathComponent($0) }
        try stdin.write(to: paths[0])
        for path in paths.dropFirst() { _ = FileManager.default.createFile(atPath: path.path, contents: nil) }
        let process = Process()
        if let memoryLimitBytes {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -v \(memoryLimitBytes / 1024) && exec \"$0\" \"$@\"", try binary().path] + arguments
        } else {
            process.executableURL = try binary()
            process.arguments = arguments
        }
        process.standardInput = try FileHandle(forReadingFrom: paths[0])
        process.standardOutput = try FileHandle(forWritingTo: paths[1])
        process.standardError = try FileHandle(forWritingTo: paths[2])
        try process.run()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                      stdout: String(decoding: try Data(contentsOf: paths[1]), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: paths[2]), as: UTF8.self))
    }
}
