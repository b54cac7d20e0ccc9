import FoundationEssentials

/// `/etc/vmmanager/vmmanager.conf`, read as written: sections of `key = value` lines.
///
/// ```
/// # defaults for every guest
/// [global]
/// hypervisor = qemu:///system
/// vm_dir = /etc/vmmanager/guests
///
/// [notify]
/// mail_to = admins@example.org
///
/// [guest web1]
/// config = web1/web1.xml
/// readiness = tcp:80
/// ```
/// Lines starting with `#` or `;` are comments. Keys before the first section belong to `[global]`.
/// Values run to the end of the line (no quoting; a `#` inside a value is kept).
public struct ConfigFile: Sendable {
    public struct Entry: Sendable, Hashable {
        public let key: String
        public let value: String
        public let line: Int
    }

    public struct Section: Sendable {
        /// `global`, `notify`, or `guest` (with ``guest`` set).
        public let kind: String
        /// The guest name of a `[guest NAME]` section.
        public let guest: String?
        public let line: Int
        public var entries: [Entry]
    }

    /// Where it was read from (for messages).
    public let path: String
    public let sections: [Section]

    /// The sections a file may have besides `[guest NAME]`.
    public static let sectionKinds: Set<String> = ["global", "notify"]

    /// Reads and parses a file.
    /// - Throws: ``ConfigError`` naming the file and line: unreadable file (`.notFound` when it does not
    ///   exist), a line that is not `key = value`, an unknown section, a duplicate key or guest.
    public static func load(_ path: String) throws(ConfigError) -> ConfigFile {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(.notFound, file: path, line: nil, key: nil, "the configuration file does not exist")
        }
        guard let data = FileContents.read(path) else {
            throw ConfigError(.unreadable, file: path, line: nil, key: nil, "cannot read the configuration file")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    /// Loads what can be read of the file: bad lines are skipped and returned as problems (the fallback of
    /// stop and monitor, which must stay exact with a broken file). nil when the file cannot be read at all.
    public static func loadLenient(_ path: String) -> (file: ConfigFile, problems: [ConfigError])? {
        guard let data = FileContents.read(path) else { return nil }
        var problems: [ConfigError] = []
        let file = parse(String(decoding: data, as: UTF8.self), path: path) { problems.append($0) }
        return (file, problems)
    }

    public static func parse(_ text: String, path: String) throws(ConfigError) -> ConfigFile {
        var first: ConfigError?
        let file = parse(text, path: path) { if first == nil { first = $0 } }
        if let first { throw first }
        return file
    }

    /// Parses `text`, handing each bad line to `problem` and going on without it. Never quotes a line of
    /// the file: `conf_file` may name a file that is not ours to show (its lines would end up in the
    /// cluster's logs and CIB).
    static func parse(_ text: String, path: String, problem: (ConfigError) -> Void) -> ConfigFile {
        var sections = [Section(kind: "global", guest: nil, line: 0, entries: [])]
        // A byte order mark (some editors write one) is not part of the first line.
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        var seenGuests: [String: Int] = [:]
        // "\r\n" is one Character in Swift: split on it too, or a file with Windows line ends is one line.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        for (index, raw) in lines.enumerated() {
            let lineNumber = index + 1
            let line = raw.trimmed
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    problem(
                        ConfigError(
                            .syntax, file: path, line: lineNumber, key: nil,
                            "a section header must end with ']'"))
                    continue
                }
                let words = line.dropFirst().dropLast().split(separator: " ", omittingEmptySubsequences: true)
                    .map(String.init)
                switch (words.first, words.count) {
                case ("guest"?, 2):
                    let name = words[1]
                    if let first = seenGuests[name] {
                        problem(
                            ConfigError(
                                .duplicate, file: path, line: lineNumber, key: nil,
                                "guest \(ConfigError.excerpt(name)) has a second section (the first is on "
                                    + "line \(first))"))
                        // Later entries belong to no section that applies, rather than to the one before.
                        sections.append(Section(kind: "ignored", guest: nil, line: lineNumber, entries: []))
                        continue
                    }
                    seenGuests[name] = lineNumber
                    sections.append(Section(kind: "guest", guest: name, line: lineNumber, entries: []))
                case (let kind?, 1) where sectionKinds.contains(kind):
                    sections.append(Section(kind: kind, guest: nil, line: lineNumber, entries: []))
                default:
                    problem(
                        ConfigError(
                            .syntax, file: path, line: lineNumber, key: nil,
                            "unknown section; sections are [global], [notify] and [guest NAME]"))
                    sections.append(Section(kind: "ignored", guest: nil, line: lineNumber, entries: []))
                }
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                problem(
                    ConfigError(
                        .syntax, file: path, line: lineNumber, key: nil,
                        "expected 'key = value', a [section] or a # comment"))
                continue
            }
            let key = line[..<eq].trimmed
            let value = line[line.index(after: eq)...].trimmed
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                problem(
                    ConfigError(
                        .syntax, file: path, line: lineNumber, key: nil,
                        "a key is letters, digits and '_' only"))
                continue
            }
            if let previous = sections[sections.count - 1].entries.first(where: { $0.key == key }) {
                problem(
                    ConfigError(
                        .duplicate, file: path, line: lineNumber, key: key,
                        "set twice in one section (first on line \(previous.line))"))
                continue
            }
            sections[sections.count - 1].entries.append(Entry(key: key, value: value, line: lineNumber))
        }
        return ConfigFile(path: path, sections: sections)
    }

    /// Entries of every section of `kind` (e.g. all `[global]` sections, in order).
    public func entries(of kind: String) -> [Entry] {
        sections.filter { $0.kind == kind }.flatMap(\.entries)
    }

    /// Entries of `[guest NAME]`, empty when the file has no such section.
    public func entries(ofGuest name: String) -> [Entry] {
        sections.first { $0.kind == "guest" && $0.guest == name }?.entries ?? []
    }

    /// The guests that have a section.
    public var guests: [String] { sections.compactMap(\.guest) }
}

/// A configuration error that names the file, the line and the key.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case notFound, unreadable, syntax, duplicate, unknownKey, invalidValue, missing
    }
    public let kind: Kind
    public let file: String?
    public let line: Int?
    public let key: String?
    public let message: String

    public init(_ kind: Kind, file: String?, line: Int?, key: String?, _ message: String) {
        self.kind = kind
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `vmmanager.conf:12: readiness: unknown probe 'tpc:80' ...`
    /// At most 64 characters of a value, with control characters shown as `?`: enough to recognise it in
    /// an error, never a flood (a 20 MB value) nor a forged log line.
    public static func excerpt(_ value: some StringProtocol) -> String {
        let cleaned = value.prefix(64).map {
            $0.isASCII && ($0.asciiValue! < 0x20 || $0.asciiValue! == 0x7f) ? "?" : $0
        }
        return String(cleaned) + (value.count > 64 ? "…" : "")
    }

    public var description: String {
        var place = file ?? "configuration"
        if let line { place += ":\(line)" }
        return "\(place): " + (key.map { "\(Self.excerpt($0)): " } ?? "") + message
    }
}

extension StringProtocol {
    /// Without leading and trailing white space (spaces, tabs, line ends) (FoundationEssentials has no
    /// `trimmingCharacters`).
    package var trimmed: String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
