import Foundation
import TestSupport
import Training
import XCTest

final class EvaluationDataTests: TemporaryDirectoryTestCase {
    func write(_ name: String, _ text: String) throws -> URL {
        let url = work.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testConversationsAndChoiceItemsInEveryForm() throws {
        let lines = try write("c.jsonl", """
            {"conversations": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of Peru?"}, {"role": "assistant", "content": "Lima"}], "fact_uuid": "peru"}

            {"conversations": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Capital of Chile?"}, {"role": "assistant", "content": "Santiago"}]}
            {"question": "Capital of Kenya?", "options": "A:Nairobi,B:Lima", "correct_answer": "A:Nairobi", "uuid": "kenya"}
            """)
        let data = try EvaluationData.load(url: lines, system: "You know facts.")
        XCTAssertEqual(data.items.count, 3)
        XCTAssertEqual(data.items.map(\.question), ["Capital of Peru?", "Capital of Chile?", "Capital of Kenya?\nA:Nairobi,B:Lima"])
        XCTAssertEqual(data.items.map(\.answer), ["Lima", "Santiago", "A:Nairobi"])
        XCTAssertEqual(data.items.map(\.factUUID), ["peru", nil, "kenya"])
        XCTAssertEqual(data.items.map(\.source), ["\(lines.path):1", "\(lines.path):3", "\(lines.path):4"])
        XCTAssertEqual(data.items[0].messages.map(\.content), ["Be brief.", "Capital of Peru?"], "the item's own system message stays")
        XCTAssertEqual(data.items[1].messages.map(\.content), ["You know facts.", "Hi", "Hello", "Capital of Chile?"])

        let one = try write("one.json", #"{"question": "Q?", "options": "A:x,B:y", "correct_answer": "B:y", "uuid": "u"}"#)
        XCTAssertEqual(try EvaluationData.load(url: one).items.map(\.correctOption), [1])
        let array = try write("array.json", #"[{"question": "Q?", "options": "A:x,B:y", "correct_answer": "A:x"}, {"target": [{"question": "R?", "options": "A:x,B:y", "correct_answer": "B:y"}, {"question": "S?", "options": "A:x,B:y", "correct_answer": "A:x"}]}]"#)
        let items = try EvaluationData.load(url: array).items
        XCTAssertEqual(items.map(\.correctOption), [0, 1, 0])
        XCTAssertEqual(items.map(\.source), ["\(array.path): [0]", "\(array.path): [1] target[0]", "\(array.path): [1] target[1]"])
    }

    func testBadLinesAreNamedOrSkipped() throws {
        let url = try write("bad.jsonl", """
            {"conversations": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A"}]}
            {"conversations": [{"role": "user", "content": "Q?"}
            {"conversations": [{"role": "assistant", "content": "A"}]}
            {"question": "Q?", "options": "A:x,B:y"}
            {"text": "plain"}
            """)
        XCTAssertThrowsError(try EvaluationData.load(url: url)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("4 bad item(s)"), message)
            XCTAssertTrue(message.contains("\(url.path):2: not valid JSON"), message)
            XCTAssertTrue(message.contains("\(url.path):3: no user turn before the last assistant turn"), message)
            XCTAssertTrue(message.contains("\(url.path):4: missing key \"correct_answer\""), message)
            XCTAssertTrue(message.contains("\(url.path):5: neither a conversation"), message)
        }
        let skipped = try EvaluationData.load(url: url, skipInvalid: true)
        XCTAssertEqual(skipped.items.count, 1)
        XCTAssertEqual(skipped.problems.count, 4)
    }
}
