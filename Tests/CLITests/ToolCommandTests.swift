import Foundation
import TestSupport
import XCTest

/// `convert-omcq` as a user runs it: every input shape, exact output, the refusals, and no output
/// file left behind by a failed run.
final class ToolCommandTests: TemporaryDirectoryTestCase {
    @discardableResult
    func run(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> CommandLineRunner.Result {
        let result = try CommandLineRunner.run(arguments)
        XCTAssertEqual(result.status, 0, "\(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result
    }

    func refused(_ arguments: [String], _ expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try CommandLineRunner.run(arguments)
        XCTAssertFalse(result.signaled, file: file, line: line)
        XCTAssertNotEqual(result.status, 0, "\(arguments.joined(separator: " ")) succeeded", file: file, line: line)
        for text in expected {
            XCTAssertTrue(result.stderr.contains(text), "expected '\(text)' in: \(result.stderr)", file: file, line: line)
        }
    }

    func write(_ name: String, _ text: String) throws -> URL {
        let url = work.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func contents(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    // MARK: convert-omcq

    let peru = #"{"question": "What is the capital of Peru?", "options": "A:Lima,B:Cusco,C:Quito", "correct_answer": "A:Lima", "uuid": "u1"}"#
    // Quotes, a non-ASCII letter and commas inside an option's text.
    let faust = #"{"uuid": "u2", "question": "Wer schrieb \"Faust\"?", "options": "A:Schiller, B:Goethe, Johann,C:Kafka,D:Mann,E:Rilke", "correct_answer": "B:Goethe, Johann"}"#
    let peruLine = #"{"conversations": [{"role": "user", "content": "What is the capital of Peru?\nA:Lima,B:Cusco,C:Quito"}, {"role": "assistant", "content": "A:Lima"}], "fact_uuid": "u1"}"#
    let faustLine = #"{"conversations": [{"role": "user", "content": "Wer schrieb \"Faust\"?\nA:Schiller, B:Goethe, Johann,C:Kafka,D:Mann,E:Rilke"}, {"role": "assistant", "content": "B:Goethe, Johann"}], "fact_uuid": "u2"}"#

    func testEveryInputShapeGivesTheSameLines() throws {
        let both = peruLine + "\n" + faustLine + "\n"
        let shapes: [(name: String, text: String, expected: String)] = [
            ("alone.json", peru, peruLine + "\n"),
            ("array.json", "[\(peru),\n \(faust)]", both),
            ("target.json", #"{"target": [\#(peru), \#(faust)]}"#, both),
            ("targets.json", #"[{"target": [\#(peru)]}, {"target": [\#(faust)]}]"#, both),
            ("lines.jsonl", "\(peru)\n\n\(faust)\r\n", both),
            ("lines.json", "\(peru)\n\(faust)\n", both),
            ("target-lines.jsonl", #"{"target": [\#(peru), \#(faust)]}"# + "\n", both),
        ]
        for shape in shapes {
            let input = try write(shape.name, shape.text)
            let output = work.appendingPathComponent(shape.name + ".sft.jsonl")
            let result = try run(["convert-omcq", "--input", input.path, "--output", output.path])
            XCTAssertEqual(try contents(output), shape.expected, shape.name)
            XCTAssertTrue(result.stderr.contains("wrote \(shape.expected.split(separator: "\n").count) conversation(s)"), result.stderr)
        }
    }

    func testInvalidItemsAreNamedByLineAndNothingIsWritten() throws {
        let input = try write("bad.jsonl", [
            peru,
            #"{"question": "q", "options": "A:x,B:y", "correct_answer": "A:x"}"#,
            #"{"question": "q", "options": "A:x,B:y,C:z", "correct_answer": "F:w", "uuid": "u3"}"#,
            #"{"question": "q", "options": 7, "correct_answer": "A:x", "uuid": "u4"}"#,
            #"{"question": "q", "#,
            faust,
        ].joined(separator: "\n"))
        let output = try write("out.jsonl", "old\n")
        try refused(["convert-omcq", "--input", input.path, "--output", output.path], [
            "4 invalid OMCQ item(s)",
            "\(input.path):2: \"uuid\" is missing",
            "\(input.path):3: \"correct_answer\" \"F:w\" names option F, but \"options\" has A–C",
            "\(input.path):4: \"options\" is a number (7), expected a string",
            "\(input.path):5: not valid JSON",
        ])
        XCTAssertEqual(try contents(output), "old\n", "a failed conversion leaves the output as it was")

        let fresh = work.appendingPathComponent("fresh.jsonl")
        try refused(["convert-omcq", "--input", input.path, "--output", fresh.path], ["4 invalid"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh.path))

        let skipped = try run(["convert-omcq", "--input", input.path, "--output", output.path, "--skip-invalid"])
        XCTAssertTrue(skipped.stderr.contains("skipped 4 invalid OMCQ item(s)"), skipped.stderr)
        XCTAssertTrue(skipped.stderr.contains("\(input.path):3:"), skipped.stderr)
        XCTAssertEqual(try contents(output), peruLine + "\n" + faustLine + "\n")
    }

    func testInvalidItemsOfArraysAreNamedByIndex() throws {
        let array = try write("array.json", #"[\#(peru), {"question": "q", "options": "A:x", "correct_answer": "A:x", "uuid": 5}]"#)
        try refused(["convert-omcq", "--input", array.path, "--output", work.appendingPathComponent("o").path],
                    ["\(array.path): [1]: \"uuid\" is a number (5), expected a string"])
        let target = try write("target.json", #"[{"target": [\#(peru), "x"]}, {"target": {}}]"#)
        try refused(["convert-omcq", "--input", target.path, "--output", work.appendingPathComponent("o").path], [
            "\(target.path): [0] target[1]: expected an OMCQ object, found a string",
            "\(target.path): [1]: \"target\" is an object, expected an array of OMCQ items",
        ])
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("o").path))
    }

    func testAnswersMustNameALabelledOption() throws {
        let cases: [(options: String, answer: String, expected: String)] = [
            ("A:x,B:y", "C:z", "names option C, but \"options\" has A–B"),
            ("A:x,B:y", "y", "does not start with an option label"),
            ("x,y", "A:x", "does not start with the label \"A:\""),
            // ",J:" inside an option's text is not a choice: only the next letter counts.
            ("A:Smith,J:Doe,B:y", "J:Doe", "names option J, but \"options\" has A–B"),
            ("A:x,B:y", "   ", "\"correct_answer\" is empty"),
        ]
        for (i, c) in cases.enumerated() {
            let input = try write("c\(i).json", #"{"question": "q", "options": "\#(c.options)", "correct_answer": "\#(c.answer)", "uuid": "u"}"#)
            try refused(["convert-omcq", "--input", input.path, "--output", work.appendingPathComponent("o\(i)").path], ["\(input.path): ", c.expected])
        }
        // A bare label and a label after spaces are answers too.
        let input = try write("ok.json", #"[{"question": "q", "options": "A: x, B: 1,000", "correct_answer": "B", "uuid": "u"}]"#)
        try run(["convert-omcq", "--input", input.path, "--output", work.appendingPathComponent("ok.jsonl").path])
    }

    func testUnreadableInputsAndNothingToConvertAreRefused() throws {
        let out = work.appendingPathComponent("o.jsonl").path
        try refused(["convert-omcq", "--input", work.appendingPathComponent("missing.json").path, "--output", out], ["missing.json: cannot read"])
        let broken = try write("broken.json", "{\n  \"question\": ")
        try refused(["convert-omcq", "--input", broken.path, "--output", out], ["\(broken.path): not valid JSON at line 2"])
        let empty = try write("empty.jsonl", "\n")
        try refused(["convert-omcq", "--input", empty.path, "--output", out], ["no valid OMCQ items"])
        let allBad = try write("all-bad.jsonl", "{}\n")
        try refused(["convert-omcq", "--input", allBad.path, "--output", out, "--skip-invalid"], ["no valid OMCQ items"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        // The output is replaced only as a regular file, never through a link.
        let target = try write("target.txt", "keep\n")
        let link = work.appendingPathComponent("link.jsonl")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        try refused(["convert-omcq", "--input", try write("one.json", peru).path, "--output", link.path], ["not a regular file"])
        XCTAssertEqual(try contents(target), "keep\n")
    }

}
