import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An SVG file read back with XMLParser: every element's name, attributes and text, in document
/// order; `nil` from `parse` when the file is not well-formed XML.
final class SVGDocument: NSObject, XMLParserDelegate {
    struct Element {
        let name: String
        let attributes: [String: String]
        var text = ""
    }

    private(set) var elements: [Element] = []
    private var open: [Int] = []

    static func parse(_ data: Data) -> SVGDocument? {
        let document = SVGDocument()
        let parser = XMLParser(data: data)
        parser.delegate = document
        return parser.parse() ? document : nil
    }

    /// The elements called `name`, only those whose `attribute` is `value` when one is given.
    func all(_ name: String, _ attribute: String? = nil, _ value: String? = nil) -> [Element] {
        elements.filter { $0.name == name && (attribute == nil || $0.attributes[attribute!] == value) }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String]) {
        open.append(elements.count)
        elements.append(Element(name: name, attributes: attributes))
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let last = open.last { elements[last].text += string }
    }
}
