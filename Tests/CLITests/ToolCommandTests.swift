import Foundation
import TestSupport
import XCTest

/// `convert-omcq` and `plot` as a user runs them: every input shape, exact output, the refusals,
/// and no output file left behind by a failed run.
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

    // MARK: plot

    /// Runs `plot` and reads the SVG back; fails the test when it is not well-formed XML.
    func plot(_ metrics: URL, _ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> SVGDocument {
        let svg = work.appendingPathComponent(metrics.lastPathComponent + ".svg")
        try run(["plot", metrics.path, "--out", svg.path] + extra, file: file, line: line)
        return try XCTUnwrap(SVGDocument.parse(try Data(contentsOf: svg)), "not well-formed XML", file: file, line: line)
    }

    /// The points of a series' path, as the (x, y) pairs of its "M x y L x y …".
    func points(_ path: SVGDocument.Element) -> [(Double, Double)] {
        let numbers = (path.attributes["d"] ?? "").split(whereSeparator: { "ML ".contains($0) }).compactMap { Double($0) }
        return stride(from: 0, to: numbers.count - 1, by: 2).map { (numbers[$0], numbers[$0 + 1]) }
    }

    func testTrainingAndEvaluationMetricsMakeThreePanels() throws {
        var lines: [String] = []
        for step in 1...60 {
            let router = step == 7 ? "null" : "\(1.5 - Double(step) * 0.01)"
            lines.append(#"{"step":\#(step),"loss":\#(3.0 - Double(step) * 0.03),"loss_ce":2.2,"loss_similarity":-0.1,"loss_diversity":0.3,"#
                         + #""loss_router":\#(router),"lr":\#(Double(step) * 1e-5),"grad_norm":0.8,"tokens_per_sec":900}"#)
            if step % 20 == 0 {
                lines.append(#"{"step":\#(step),"eval_accuracy":\#(Double(step) / 100),"eval_accuracy_memory_off":0.1,"eval_recall":0.9}"#)
            }
        }
        let svg = try plot(try write("metrics.jsonl", lines.joined(separator: "\n") + "\n"), ["--title", "run <7> & \"more\""])
        let series = svg.all("path", "class", "series")
        let names = ["loss", "loss_ce", "loss_similarity", "loss_diversity", "loss_router",
                     "eval_accuracy", "eval_accuracy_memory_off", "eval_recall", "lr"]
        XCTAssertEqual(series.map { $0.attributes["data-name"] }, names)
        XCTAssertEqual(svg.all("g", "class", "panel").count, 3)
        let texts = Set(svg.all("text").map(\.text))
        for name in names + ["loss", "evaluation", "learning rate", "step", "run <7> & \"more\""] {
            XCTAssertTrue(texts.contains(name), "no text '\(name)' in \(texts.sorted())")
        }
        XCTAssertEqual(svg.all("title").first?.text, "run <7> & \"more\"")
        XCTAssertEqual(points(series[0]).count, 60)
        XCTAssertEqual(points(series[4]).count, 59, "the null loss_router is a gap")
        XCTAssertEqual(points(series[5]).count, 3)
        // Steps 1…60 on nice ticks, the learning rate (1e-5 … 6e-4) in scientific form.
        for label in ["0", "10", "60", "1e-4", "6e-4", "0.5", "-0.5", "3.0"] {
            XCTAssertTrue(texts.contains(label), "no tick label '\(label)' in \(texts.sorted())")
        }
        XCTAssertFalse(texts.contains("61"))
        // Later steps lie to the right, a higher loss above (SVG's y grows downwards).
        let loss = points(series[0])
        XCTAssertLessThan(loss[0].0, loss[59].0)
        XCTAssertLessThan(loss[0].1, loss[59].1)
        XCTAssertEqual(Set(points(series[1]).map(\.1)).count, 1, "a constant series is a flat line")
        for element in svg.all("image") + svg.all("script") + svg.all("use") { XCTFail("external or active content: \(element.name)") }
    }

    func testTrainingLinesAloneAndASinglePoint() throws {
        let svg = try plot(try write("train.jsonl", #"{"step":1,"loss":2.0,"lr":0.001}"# + "\n" + #"{"step":2,"loss":null}"# + "\n"))
        XCTAssertEqual(svg.all("path", "class", "series").map { $0.attributes["data-name"] }, ["loss", "lr"])
        XCTAssertEqual(svg.all("g", "class", "panel").count, 2)
        XCTAssertEqual(svg.all("circle").count, 2, "a single point is drawn as a dot")
        let texts = Set(svg.all("text").map(\.text))
        for label in ["1.8", "2.0", "2.2", "0", "1", "2"] { XCTAssertTrue(texts.contains(label), "no tick '\(label)' in \(texts.sorted())") }
        XCTAssertTrue(texts.contains(work.appendingPathComponent("train.jsonl").path), "the default title is the file")
    }

    func testMetricsThatCannotBePlottedAreRefused() throws {
        let out = work.appendingPathComponent("m.svg")
        let cases: [(text: String, expected: String)] = [
            ("", "no metrics to plot"),
            ("\n\n", "no metrics to plot"),
            (#"{"step":1,"tokens_per_sec":900,"loss":null}"#, "no metrics to plot"),
            (#"{"step":1,"loss":1}"# + "\n" + #"{"loss":2}"#, "m.jsonl:2: key 'step' is missing"),
            (#"{"step":"one","loss":1}"#, "m.jsonl:1: key 'step': \"one\" is not a number"),
            (#"{"step":1,"loss":"high"}"#, "m.jsonl:1: key 'loss': \"high\" is not a number"),
            (#"{"step":1,"eval_recall":[0.9]}"#, "m.jsonl:1: key 'eval_recall': [0.9] is not a number"),
            (#"{"step":1,"lr":1e999}"#, "m.jsonl:1: key 'lr': 1e999 is outside ±1e100"),
            ("{\"step\":1,\"loss\":1}\n{\"step\":2,", "m.jsonl:2: not valid JSON"),
        ]
        for c in cases {
            let metrics = try write("m.jsonl", c.text)
            try refused(["plot", metrics.path, "--out", out.path], [c.expected])
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), c.expected)
        }
        try refused(["plot", work.appendingPathComponent("none.jsonl").path, "--out", out.path], ["none.jsonl: cannot read"])
    }
}
