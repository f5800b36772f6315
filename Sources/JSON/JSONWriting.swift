extension JSONValue {
    /// Python `json.dumps(x, ensure_ascii=False)` formatting (", " and ": " separators), as the
    /// chat template's `tojson` filter writes it.
    public func pythonJSON() -> String {
        var out = ""
        writePython(into: &out)
        return out
    }

    /// The value as compact JSON, cut to `limit` characters: for quoting a bad value in an error.
    public func excerpt(_ limit: Int = 40) -> String {
        let text = pythonJSON()
        return text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    private func writePython(into out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(n): out += n
        case let .string(s): JSONValue.writeQuoted(s, into: &out)
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                item.writePython(into: &out)
            }
            out += "]"
        case let .object(pairs):
            out += "{"
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out += ", " }
                JSONValue.writeQuoted(k, into: &out)
                out += ": "
                v.writePython(into: &out)
            }
            out += "}"
        }
    }

    /// `s` as a JSON string literal, escaped as Python's `json` and serde_json write it (short escapes
    /// where JSON has them, other control characters as lowercase `\u00XX`, everything else as is).
    public static func quoted(_ s: String) -> String {
        var out = ""
        writeQuoted(s, into: &out)
        return out
    }

    static func writeQuoted(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// A number for a JSON document: its shortest exact form, or `null` for NaN and the infinities,
/// which JSON cannot hold (Swift would print `nan`, `-nan` or `inf`, and no reader accepts them).
public func jsonNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

/// A float32 as `jsonNumber` writes it, in the float's own shortest form ("0.1", not "0.10000000149").
public func jsonNumber(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
