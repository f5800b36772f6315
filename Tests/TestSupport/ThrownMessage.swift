import XCTest

/// Runs `body` and returns the message of the error it throws (fails when it throws none).
public func thrownMessage(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        try body()
        XCTFail("expected an error", file: file, line: line)
        return ""
    } catch {
        return "\(error)"
    }
}
