/// What every SVG chart writes: coordinates and XML text.
enum SVGText {
    /// The opening of a standalone document: size, font, title and a white background.
    static func header(width: Double, height: Double, title: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
        <title>\(escaped(title))</title>
        <rect width="100%" height="100%" fill="#ffffff"/>
        <text x="\(coordinate(width / 2))" y="32" text-anchor="middle" font-size="18" font-weight="bold">\(escaped(title))</text>

        """
    }

    /// A coordinate to 0.1 px: finer than any screen, and it keeps long series' paths short.
    static func coordinate(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// Text and attribute values as XML character data (metric names and titles are the user's).
    static func escaped(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            // XML 1.0 cannot hold these control characters at all, escaped or not.
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
