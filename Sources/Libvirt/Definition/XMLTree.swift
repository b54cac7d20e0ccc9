// The only file that calls libxml2. Everything else sees `XMLTree` and `XMLTree.Element`, which hide the C types,
// the ownership of the document and libxml2's habit of printing errors to stderr (which a cluster manager reads).
internal import CLibXML2

/// Why libxml2 refused a document, as it reported the first error.
struct XMLParseError: Error, Sendable {
    /// libxml2's message, without its trailing newline.
    var message: String
    /// 1-based line of the first error, when libxml2 knows it.
    var line: Int?
}

/// A parsed XML document that can be queried with XPath, edited in place and written back.
///
/// The class owns the `xmlDocPtr` and frees it in `deinit`; every ``Element`` keeps its tree alive, so a handle can
/// never point into a freed document. It is deliberately not `Sendable`: libxml2 documents must not be touched from
/// two threads at once. Callers keep a tree inside one synchronous function and hand out plain values.
///
/// Parsing never touches the network (`XML_PARSE_NONET`) and never substitutes entities (no `XML_PARSE_NOENT`), so a
/// hostile `<!DOCTYPE>` cannot read local files into the document; entity references stay references.
final class XMLTree {
    /// Owned; freed in `deinit`.
    fileprivate let document: xmlDocPtr
    /// Whether the input began with `<?xml ...?>`. libxml2 records a version either way, so this is the only way to
    /// avoid adding a declaration that the input did not have.
    private let hasDeclaration: Bool
    /// Whether the input ended with a newline; libxml2 always writes one after the root element.
    private let endsWithNewline: Bool

    /// Parses `text` as UTF-8.
    ///
    /// - Parameter text: The document. Its own `encoding=` declaration is ignored: a Swift string is UTF-8.
    /// - Throws: ``XMLParseError`` with libxml2's first error message and line when the text is not well-formed.
    init(parsing text: String) throws(XMLParseError) {
        _ = XMLTree.libraryInitialized
        let byteCount = text.utf8.count
        guard byteCount <= Int(Int32.max) else {
            throw XMLParseError(message: "document is larger than 2 GiB", line: nil)
        }
        guard let context = xmlNewParserCtxt() else {
            throw XMLParseError(message: "libxml2 could not allocate a parser", line: nil)
        }
        defer { xmlFreeParserCtxt(context) }

        // The structured handler on the context sees every error the parser raises for this document, before libxml2
        // would fall back to printing it. The first error is the informative one ("Opening and ending tag mismatch");
        // later ones are consequences ("Premature end of data").
        let collector = FirstErrorCollector()
        context.pointee._private = Unmanaged.passUnretained(collector).toOpaque()
        context.pointee.sax.pointee.serror = { userData, error in
            guard let userData, let error else { return }
            // libxml2 passes `ctxt->userData`, which is the parser context itself unless a SAX user replaced it.
            let context = userData.assumingMemoryBound(to: xmlParserCtxt.self)
            guard let box = context.pointee._private else { return }
            Unmanaged<FirstErrorCollector>.fromOpaque(box).takeUnretainedValue().record(error.pointee)
        }

        // NOERROR/NOWARNING clear the printing SAX callbacks, a second guard next to the structured handler above.
        // IGNORE_ENC: a Swift string is UTF-8 whatever its declaration says, and an unknown `encoding=` would
        // otherwise fail the parse.
        let options = Int32(
            XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
                | XML_PARSE_IGNORE_ENC.rawValue
        )
        let parsed = withLibXML2ErrorsSilenced {
            text.withCString { bytes in
                xmlCtxtReadMemory(context, bytes, Int32(byteCount), nil, "UTF-8", options)
            }
        }
        withExtendedLifetime(collector) {}
        guard let parsed else {
            if let first = collector.first {
                throw first
            }
            if let last = xmlCtxtGetLastError(context), let message = last.pointee.message {
                throw XMLParseError(message: Self.trimmedMessage(message), line: Int(last.pointee.line))
            }
            throw XMLParseError(message: "libxml2 could not parse the document", line: nil)
        }
        document = parsed
        let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
        let bytes = text.utf8.starts(with: byteOrderMark) ? text.utf8.dropFirst(3) : text.utf8.dropFirst(0)
        hasDeclaration = bytes.starts(with: "<?xml".utf8)
        endsWithNewline = text.utf8.last == UInt8(ascii: "\n")
    }

    deinit {
        xmlFreeDoc(document)
    }

    /// The document element, if there is one.
    var root: Element? {
        xmlDocGetRootElement(document).map { Element(tree: self, node: $0) }
    }

    /// The elements an XPath expression selects; other node kinds (attributes, text) are skipped.
    ///
    /// - Parameters:
    ///   - expression: An XPath 1.0 expression. The expressions are constants in this module, so an invalid one is a
    ///     programming error: it asserts in debug builds and selects nothing in release builds.
    ///   - context: The context node for relative expressions; the document when `nil`.
    func elements(_ expression: String, relativeTo context: Element? = nil) -> [Element] {
        withLibXML2ErrorsSilenced {
            guard let xpath = xmlXPathNewContext(document) else { return [] }
            defer { xmlXPathFreeContext(xpath) }
            // XPath errors go to this handler instead of the thread's generic (printing) one.
            xpath.pointee.error = { _, _ in }
            if let context {
                xpath.pointee.node = context.node
            }
            guard let result = withXMLString(expression, { xmlXPathEvalExpression($0, xpath) }) else {
                assertionFailure("invalid XPath expression \(expression)")
                return []
            }
            defer { xmlXPathFreeObject(result) }
            guard result.pointee.type == XPATH_NODESET, let set = result.pointee.nodesetval,
                let nodes = set.pointee.nodeTab
            else { return [] }
            return (0..<Int(set.pointee.nodeNr)).compactMap { index in
                guard let node = nodes[index], node.pointee.type == XML_ELEMENT_NODE else { return nil }
                return Element(tree: self, node: node)
            }
        }
    }

    /// The document as text, UTF-8, without reformatting.
    ///
    /// Whitespace, comments, processing instructions, a DOCTYPE and unknown elements come back as they were read. What
    /// libxml2 normalises: attributes are written with double quotes, `<a></a>` becomes `<a/>`, character references
    /// become the characters, and an XML declaration is written only if the input had one (then with
    /// `encoding="UTF-8"`).
    func serialized() -> String {
        withLibXML2ErrorsSilenced {
            guard let buffer = xmlBufferCreate() else {
                fatalError("libxml2 could not allocate a buffer to serialize a document")
            }
            defer { xmlBufferFree(buffer) }
            let options = hasDeclaration ? 0 : Int32(XML_SAVE_NO_DECL.rawValue)
            guard let save = xmlSaveToBuffer(buffer, "UTF-8", options) else {
                fatalError("libxml2 could not create a serialization context")
            }
            xmlSaveDoc(save, document)
            xmlSaveClose(save)
            let length = Int(xmlBufferLength(buffer))
            guard length > 0, let content = xmlBufferContent(buffer) else { return "" }
            var text = String(decoding: UnsafeBufferPointer(start: content, count: length), as: UTF8.self)
            if !endsWithNewline, text.last == "\n" {
                text.removeLast()
            }
            return text
        }
    }

    /// libxml2's global state is set up once per process; `xmlInitParser` documents that it must run before
    /// concurrent use. Swift initialises a `static let` exactly once, thread-safely.
    private static let libraryInitialized: Bool = {
        xmlInitParser()
        return true
    }()

    fileprivate static func trimmedMessage(_ message: UnsafeMutablePointer<CChar>) -> String {
        var text = String(cString: message)
        while let last = text.last, last.isWhitespace {
            text.removeLast()
        }
        return text
    }
}

extension XMLTree {
    /// A handle to one element of a tree. It keeps the tree (and so the C document) alive.
    struct Element {
        fileprivate let tree: XMLTree
        fileprivate let node: xmlNodePtr

        /// The element's local name, without a namespace prefix.
        var name: String {
            String(cString: node.pointee.name)
        }

        /// The value of an attribute without a namespace, or `nil` when the element does not have it.
        func attribute(_ name: String) -> String? {
            guard let attribute = withXMLString(name, { xmlHasNsProp(node, $0, nil) }),
                attribute.pointee.type == XML_ATTRIBUTE_NODE
            else { return nil }
            return Self.content(of: UnsafeMutableRawPointer(attribute).assumingMemoryBound(to: xmlNode.self))
        }

        /// Sets an attribute, replacing its value in place (attribute order is kept) or appending it.
        ///
        /// The value is taken literally; `&` and `<` are escaped when the tree is serialized.
        func setAttribute(_ name: String, to value: String) {
            withXMLString(name) { name in
                withXMLString(value) { value in
                    _ = xmlSetProp(node, name, value)
                }
            }
        }

        /// The concatenated text of the element and its descendants. Unexpanded entity references contribute the
        /// replacement text libxml2 knows for them, which for external entities is nothing.
        var text: String {
            Self.content(of: node)
        }

        /// Replaces the element's children with one text node holding `text` literally.
        func setText(_ text: String) {
            xmlNodeSetContent(node, nil)
            withXMLString(text) { xmlNodeAddContent(node, $0) }
        }

        /// The element children, in document order.
        var children: [Element] {
            var result: [Element] = []
            var child = node.pointee.children
            while let current = child {
                if current.pointee.type == XML_ELEMENT_NODE {
                    result.append(Element(tree: tree, node: current))
                }
                child = current.pointee.next
            }
            return result
        }

        /// The first element child with the given name and no namespace (what the XPath step `name` selects).
        func firstChild(named name: String) -> Element? {
            children.first { $0.node.pointee.ns == nil && $0.name == name }
        }

        /// The next element after this one with the same parent.
        var nextSiblingElement: Element? {
            var sibling = node.pointee.next
            while let current = sibling {
                if current.pointee.type == XML_ELEMENT_NODE {
                    return Element(tree: tree, node: current)
                }
                sibling = current.pointee.next
            }
            return nil
        }

        /// Adds an empty element child and indents it like its siblings, so an edited document still reads like one
        /// libvirt wrote.
        ///
        /// - Parameters:
        ///   - name: The new element's name (no namespace).
        ///   - sibling: An element child of this element to insert before; `nil` appends after the last child.
        /// - Returns: The new element.
        @discardableResult
        func addChild(named name: String, before sibling: Element? = nil) -> Element {
            let document = tree.document
            guard let child = withXMLString(name, { xmlNewDocNode(document, nil, $0, nil) }) else {
                fatalError("libxml2 could not allocate an element")
            }
            // libxml2 merges adjacent text nodes on insertion, so whitespace is always inserted next to an element.
            if let sibling {
                precondition(sibling.node.pointee.parent == node, "addChild(named:before:) needs a child of self")
                let indentation = Self.indentation(before: sibling.node)
                xmlAddPrevSibling(sibling.node, child)
                if let indentation {
                    xmlAddPrevSibling(sibling.node, Self.newText(indentation, in: document))
                }
            } else if let last = children.last?.node {
                let indentation = Self.indentation(before: last)
                if let trailing = last.pointee.next {
                    xmlAddPrevSibling(trailing, child)
                } else {
                    xmlAddNextSibling(last, child)
                }
                if let indentation {
                    xmlAddPrevSibling(child, Self.newText(indentation, in: document))
                }
            } else if node.pointee.children == nil, let outer = Self.indentation(before: node) {
                // An empty parent: indent the child two spaces deeper than the parent, as libvirt does.
                xmlAddChild(node, Self.newText(outer + "  ", in: document))
                xmlAddChild(node, child)
                xmlAddChild(node, Self.newText(outer, in: document))
            } else {
                xmlAddChild(node, child)
            }
            return Element(tree: tree, node: child)
        }

        /// The text content of an element or attribute node.
        ///
        /// It is read into an `xmlBuffer` rather than with `xmlNodeGetContent`, whose result must be released with
        /// `xmlFree`, a mutable C global that Swift 6 rightly refuses to read without synchronisation.
        private static func content(of node: xmlNodePtr) -> String {
            guard let buffer = xmlBufferCreate() else {
                fatalError("libxml2 could not allocate a buffer to read a node's text")
            }
            defer { xmlBufferFree(buffer) }
            xmlNodeBufGetContent(buffer, node)
            let length = Int(xmlBufferLength(buffer))
            guard length > 0, let content = xmlBufferContent(buffer) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: content, count: length), as: UTF8.self)
        }

        /// The line break and indentation in the whitespace text node right before `node`, if there is one.
        private static func indentation(before node: xmlNodePtr) -> String? {
            guard let previous = node.pointee.prev, previous.pointee.type == XML_TEXT_NODE,
                let content = previous.pointee.content
            else { return nil }
            let text = String(cString: content)
            guard let newline = text.lastIndex(of: "\n"), text.allSatisfy(\.isWhitespace) else { return nil }
            return String(text[newline...])
        }

        private static func newText(_ text: String, in document: xmlDocPtr) -> xmlNodePtr {
            guard let node = withXMLString(text, { xmlNewDocText(document, $0) }) else {
                fatalError("libxml2 could not allocate a text node")
            }
            return node
        }
    }
}

/// Collects the first error or fatal error libxml2 reports while parsing; warnings are ignored.
private final class FirstErrorCollector {
    var first: XMLParseError?

    func record(_ error: xmlError) {
        guard first == nil, error.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
        let message =
            if let text = error.message { XMLTree.trimmedMessage(text) } else { "libxml2 error \(error.code)" }
        first = XMLParseError(message: message, line: error.line > 0 ? Int(error.line) : nil)
    }
}

/// Runs `body` with the calling thread's structured libxml2 error handler replaced by one that does nothing.
///
/// Errors raised without a parser or XPath context (I/O, tree, encoding) go to the thread's handler, whose default
/// prints to stderr. The handler is thread-local and restored afterwards, so other libxml2 users in the process (the
/// libvirt client library among them) are unaffected. `body` is synchronous, so it runs on one thread throughout.
private func withLibXML2ErrorsSilenced<Result, Failure: Error>(
    _ body: () throws(Failure) -> Result
) throws(Failure)
    -> Result
{
    let previousHandler = __xmlStructuredError().pointee
    let previousContext = __xmlStructuredErrorContext().pointee
    xmlSetStructuredErrorFunc(nil) { _, _ in }
    defer { xmlSetStructuredErrorFunc(previousContext, previousHandler) }
    return try body()
}

/// Lends a NUL-terminated UTF-8 copy of `string` as libxml2's `const xmlChar *`.
private func withXMLString<Result>(_ string: String, _ body: (UnsafePointer<xmlChar>) -> Result) -> Result {
    string.withCString { pointer in
        pointer.withMemoryRebound(to: xmlChar.self, capacity: string.utf8.count + 1, body)
    }
}
