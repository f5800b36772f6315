import Training
import XCTest

final class AnswerJudgeTests: XCTestCase {
    func judged(_ generated: String, _ gold: String) -> [Bool] {
        let j = AnswerJudgement(generated: generated, gold: gold)
        return [j.startswith, j.exact, j.contains]
    }

    func testTheThreeJudges() {
        XCTAssertEqual(judged("Lima", "Lima"), [true, true, true])
        XCTAssertEqual(judged("  Lima.\n", "Lima"), [true, true, true], "whitespace and a final period are forgiven by exact")
        XCTAssertEqual(judged("Lima", "Lima."), [false, true, false], "the gold's period is dropped only by exact")
        XCTAssertEqual(judged("Lima is the capital of Peru.", "Lima"), [true, false, true])
        XCTAssertEqual(judged("The capital is Lima", "Lima"), [false, false, true])
        XCTAssertEqual(judged("lima", "Lima"), [false, false, false], "case counts")
        XCTAssertEqual(judged("Lim", "Lima"), [false, false, false])
        XCTAssertEqual(judged("Lima..", "Lima"), [true, false, true], "only one final period is dropped")
        XCTAssertEqual(judged("C:Lima", "C:Lima"), [true, true, true])
        XCTAssertEqual(judged("", "Lima"), [false, false, false])
        XCTAssertEqual(judged("anything", "  "), [false, false, false], "an empty gold answer matches nothing")
    }

    func testOptionsSplitOnlyBeforeALetterAndColon() throws {
        let item = try EvaluationItem(question: "Capital of the USA?", options: "A:Lima,B:Washington, D.C., C:Quito", correctAnswer: "B:Washington, D.C.",
                                      uuid: "usa", source: "f:1")
        XCTAssertEqual(item.options, ["A:Lima", "B:Washington, D.C.", "C:Quito"])
        XCTAssertEqual(item.correctOption, 1)
        XCTAssertEqual(item.question, "Capital of the USA?\nA:Lima,B:Washington, D.C., C:Quito", "the user turn is question, newline, options (§7)")
        XCTAssertEqual(item.messages.map(\.content), [item.question])
        XCTAssertThrowsError(try EvaluationItem(question: "q", options: "A:x,B:y", correctAnswer: "C:z", uuid: nil, source: "f:2")) {
            XCTAssertTrue("\($0)".contains("f:2: \"correct_answer\" \"C:z\" names no option"), "\($0)")
        }
        XCTAssertThrowsError(try EvaluationItem(question: "q", options: "just text", correctAnswer: "A:x", uuid: nil, source: "f:3")) {
            XCTAssertTrue("\($0)".contains("f:3: \"options\""), "\($0)")
        }
    }
}
