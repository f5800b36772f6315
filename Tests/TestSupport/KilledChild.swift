import Foundation

/// Tests of what a process killed at an arbitrary moment leaves on disk: the parent re-runs one test
/// of its own test binary as a child, which sees `environment` and works in a loop until killed.
public enum KilledChild {
    /// Runs `test` ("Module.Class/testName") as a child and SIGKILLs it after `delay` seconds.
    public static func run(_ test: String, environment: [String: String], killAfter delay: TimeInterval) throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = [test]
        child.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        Thread.sleep(forTimeInterval: delay)
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
    }
}
