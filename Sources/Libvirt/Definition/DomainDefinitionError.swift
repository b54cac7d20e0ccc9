/// Why a domain definition could not be read or edited.
///
/// Match on ``code`` (or use `catch DomainDefinitionError.Code.missingName`); ``description`` is a sentence for an
/// operator that says what is wrong and where.
public struct DomainDefinitionError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem it is. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case malformedXML, notADomain, missingName, invalidValue, noSuchInterface
        }

        private let value: Value

        private init(_ value: Value) {
            self.value = value
        }

        /// The text is not well-formed XML.
        public static let malformedXML = Code(.malformedXML)
        /// The root element is not `<domain>`.
        public static let notADomain = Code(.notADomain)
        /// `<name>` is missing or empty.
        public static let missingName = Code(.missingName)
        /// A `<uuid>`, `<memory>` or MAC address does not parse.
        public static let invalidValue = Code(.invalidValue)
        /// An edit named an interface index the definition does not have.
        public static let noSuchInterface = Code(.noSuchInterface)

        public var description: String {
            value.rawValue
        }

        /// Lets `catch DomainDefinitionError.Code.missingName` match.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? DomainDefinitionError)?.code == code
        }
    }

    /// What kind of problem it is.
    public let code: Code
    /// The 1-based line libxml2 reported, for ``Code/malformedXML``.
    public let line: Int?
    /// What is wrong and where.
    public let message: String

    public var description: String {
        message
    }

    init(_ code: Code, _ message: String, line: Int? = nil) {
        self.code = code
        self.message = message
        self.line = line
    }

    init(malformed error: XMLParseError) {
        let location = error.line.map { " (line \($0))" } ?? ""
        self.init(.malformedXML, "domain XML is not well-formed\(location): \(error.message)", line: error.line)
    }
}
