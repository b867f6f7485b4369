/// An instruction split the way BuildKit's parser splits it: the instruction word, the
/// `--flags`, and the remaining argument text.
struct RawNode {
    var keyword: String
    var flags: [String]
    var rest: String

    init(_ line: String, escape: Unicode.Scalar) {
        let trimmed = Array(LineParsers.trimSpace(line.unicodeScalars).unicodeScalars)
        guard let sep = trimmed.firstIndex(where: isSplitSpace) else {
            keyword = String(String.UnicodeScalarView(trimmed))
            flags = []
            rest = ""
            return
        }
        keyword = String(String.UnicodeScalarView(trimmed[..<sep]))
        var start = sep
        while start < trimmed.count, isSplitSpace(trimmed[start]) { start += 1 }
        let (flags, remaining) = InstructionFlags.extract(from: Array(trimmed[start...]), escape: escape)
        self.flags = flags
        rest = LineParsers.trimSpace(remaining)
    }

    var lowercased: String { keyword.lowercased() }

    /// Whether heredocs are read after this line: RUN, COPY and ADD (also as an ONBUILD
    /// trigger) in their non-JSON forms.
    func canContainHeredoc(escape: Unicode.Scalar) -> Bool {
        var node = self
        if lowercased == "onbuild" {
            guard !rest.isEmpty else { return false }
            node = RawNode(rest, escape: escape)
        }
        guard ["run", "copy", "add"].contains(node.lowercased) else { return false }
        if case .success(.strings) = LineParsers.jsonArray(node.rest) { return false }
        return true
    }
}

/// Reads a whole Dockerfile into located instructions. The per-instruction rules are in
/// `InstructionParser`; this type drives the lexer and reads heredoc bodies.
struct Parser {
    var lexer: Lexer

    init(bytes: [UInt8], file: String) {
        lexer = Lexer(bytes: bytes, file: file)
    }

    mutating func parseAll() throws(DockerfileError) -> [Instruction] {
        var instructions: [Instruction] = []
        while let line = try lexer.nextLogicalLine() {
            var location = SourceLocation(file: lexer.file, line: line.startLine, endLine: line.endLine)
            let escape = lexer.escape
            let node = RawNode(line.text, escape: escape)
            var heredocs: [Heredoc] = []
            if node.canContainHeredoc(escape: escape) && line.text.contains("<<") {
                let markers: [Heredoc]
                do {
                    markers = try Heredoc.markers(inLine: line.text)
                } catch {
                    throw error.at(location)
                }
                for var marker in markers {
                    marker.content = try lexer.readHeredocBody(delimiter: marker.name, chomp: marker.chomp, startLine: line.startLine)
                    heredocs.append(marker)
                }
                location.endLine = lexer.lineNumber
            }
            let parser = InstructionParser(escape: escape, location: location, original: line.text)
            instructions.append(try parser.parse(node, heredocs: heredocs))
        }
        return instructions
    }
}

/// The rules of each instruction: its arguments, its flags, and BuildKit's messages when
/// they are wrong.
struct InstructionParser {
    let escape: Unicode.Scalar
    let location: SourceLocation
    let original: String

    func parse(_ node: RawNode, heredocs: [Heredoc]) throws(DockerfileError) -> Instruction {
        let keyword = node.lowercased
        let upper = keyword.uppercased()
        func fail(_ message: String) -> DockerfileError {
            .invalidInstruction(location, instruction: upper, message)
        }
        var flags = InstructionFlags(words: node.flags)
        func parseFlags(_ declared: [String: InstructionFlags.Kind] = [:]) throws(DockerfileError) {
            try flags.parse(declared, instruction: upper, at: location)
        }
        /// The arguments of the "maybe JSON" instructions, and whether they were JSON.
        func maybeJSON(list: Bool) throws(DockerfileError) -> (args: [String], json: Bool) {
            switch LineParsers.jsonArray(node.rest) {
            case .success(.strings(let s)): return (s, true)
            case .failure(let e): throw fail(e.message)
            case .success(.notJSON):
                if list { return (LineParsers.whitespaceList(node.rest), false) }
                return (node.rest.isEmpty ? [] : [node.rest], false)
            }
        }
        func commandForm(_ args: [String], json: Bool) -> CommandForm {
            json ? .exec(args) : .shell(args.joined(separator: " "))
        }
        func single() throws(DockerfileError) -> String {
            guard !node.rest.isEmpty else { throw fail("\(upper) requires exactly one argument") }
            return node.rest
        }

        let kind: Instruction.Kind
        switch keyword {
        case "from":
            let args = LineParsers.whitespaceList(node.rest)
            var stageName: String?
            if args.count == 3 && args[1].lowercased() == "as" {
                let name = args[2].lowercased()
                guard Self.isValidStageName(name) else {
                    throw fail("invalid name for build stage: \"\(args[2])\", name can't start with a number or contain symbols")
                }
                stageName = name
            } else if args.count != 1 {
                throw fail("FROM requires either one or three arguments")
            }
            try parseFlags(["platform": .string])
            kind = .from(.init(image: args[0], stageName: stageName, platform: flags.string("platform")))

        case "run":
            try parseFlags(["mount": .strings, "network": .string, "security": .string])
            let (args, json) = try maybeJSON(list: false)
            var mounts: [RunMount] = []
            for spec in flags.strings("mount") {
                do {
                    mounts.append(try RunMount(parsing: spec))
                } catch {
                    throw .invalidFlag(location, instruction: upper, flag: "--mount", error.message)
                }
            }
            let networkValue = flags.string("network") ?? "default"
            guard let network = Instruction.Run.Network(rawValue: networkValue) else {
                throw .invalidFlag(location, instruction: upper, flag: "--network", "invalid network mode \"\(networkValue)\"")
            }
            let securityValue = flags.string("security") ?? "sandbox"
            guard let security = Instruction.Run.Security(rawValue: securityValue) else {
                throw .invalidFlag(location, instruction: upper, flag: "--security", "security \"\(securityValue)\" is not valid")
            }
            kind = .run(.init(command: commandForm(args, json: json), heredocs: heredocs, mounts: mounts,
                              network: network, security: security))

        case "cmd", "entrypoint":
            try parseFlags()
            let (args, json) = try maybeJSON(list: false)
            kind = keyword == "cmd" ? .cmd(commandForm(args, json: json)) : .entrypoint(commandForm(args, json: json))

        case "shell":
            try parseFlags()
            let (args, json) = try maybeJSON(list: false)
            guard !args.isEmpty else { throw fail("SHELL requires at least one argument") }
            guard json else { throw fail("SHELL requires the arguments to be in JSON form") }
            kind = .shell(args)

        case "env", "label":
            try parseFlags()
            let pairs: [KeyValue]
            switch LineParsers.nameValues(node.rest, instruction: upper, escape: escape) {
            case .success(let p): pairs = p
            case .failure(let e): throw fail(e.message)
            }
            guard !pairs.isEmpty else { throw fail("\(upper) requires at least one argument") }
            if pairs.contains(where: { $0.key.isEmpty }) { throw fail("\(upper) names can not be blank") }
            kind = keyword == "env" ? .env(pairs) : .label(pairs)

        case "arg":
            try parseFlags()
            let words = LineParsers.words(node.rest, escape: escape)
            guard !words.isEmpty else { throw fail("ARG requires at least one argument") }
            var args: [ArgDefinition] = []
            for word in words {
                if let eq = word.firstIndex(of: "=") {
                    guard eq != word.startIndex else { throw fail("ARG names can not be blank") }
                    args.append(ArgDefinition(name: String(word[..<eq]), defaultValue: String(word[word.index(after: eq)...])))
                } else {
                    args.append(ArgDefinition(name: word))
                }
            }
            kind = .arg(args)

        case "expose":
            let ports = LineParsers.whitespaceList(node.rest)
            guard !ports.isEmpty else { throw fail("EXPOSE requires at least one argument") }
            try parseFlags()
            kind = .expose(ports.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }))

        case "volume":
            let (args, _) = try maybeJSON(list: true)
            guard !args.isEmpty else { throw fail("VOLUME requires at least one argument") }
            try parseFlags()
            var volumes: [String] = []
            for v in args {
                let t = LineParsers.trimSpace(v.unicodeScalars)
                guard !t.isEmpty else { throw fail("VOLUME specified can not be an empty string") }
                volumes.append(t)
            }
            kind = .volume(volumes)

        case "user":
            let v = try single()
            try parseFlags()
            kind = .user(v)
        case "workdir":
            let v = try single()
            try parseFlags()
            kind = .workdir(v)
        case "maintainer":
            let v = try single()
            try parseFlags()
            kind = .maintainer(v)
        case "stopsignal":
            let v = try single()
            try parseFlags()
            kind = .stopSignal(v)

        case "healthcheck":
            kind = .healthcheck(try parseHealthcheck(node, flags: &flags, fail: fail))

        case "onbuild":
            guard !node.rest.isEmpty else { throw fail("ONBUILD requires at least one argument") }
            try parseFlags()
            let sub = RawNode(node.rest, escape: escape)
            let triggerWord = sub.keyword.uppercased()
            switch triggerWord {
            case "ONBUILD": throw fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
            case "MAINTAINER", "FROM": throw fail("\(triggerWord) isn't allowed as an ONBUILD trigger")
            default: break
            }
            let trigger = try InstructionParser(escape: escape, location: location, original: node.rest)
                .parse(sub, heredocs: heredocs)
            var expression = Self.droppingOnbuild(original)
            for heredoc in heredocs {
                expression += "\n" + heredoc.content + heredoc.name
            }
            kind = .onbuild(.init(expression: expression, trigger: trigger))

        case "copy", "add":
            let (args, _) = try maybeJSON(list: true)
            guard args.count >= 2 else {
                throw fail("\(upper) requires at least two arguments, but only one was provided. Destination could not be determined")
            }
            if keyword == "copy" {
                try parseFlags(["chown": .string, "from": .string, "chmod": .string, "link": .bool,
                                "exclude": .strings, "parents": .bool])
            } else {
                try parseFlags(["chown": .string, "chmod": .string, "link": .bool, "keep-git-dir": .bool,
                                "checksum": .string, "unpack": .bool, "exclude": .strings])
            }
            let destination = args[args.count - 1]
            // As BuildKit's MustParseHeredoc: a word that fails to lex is simply not a heredoc.
            if (try? Heredoc.marker(destination)) != nil {
                throw fail("\(upper) cannot accept a heredoc as a destination")
            }
            var byName: [String: Heredoc] = [:]
            for h in heredocs { byName[h.name] = h }
            var sources: [String] = []
            var inline: [Instruction.InlineSource] = []
            for source in args.dropLast() {
                if var marker = try? Heredoc.marker(source) {
                    marker.content = byName[marker.name]?.content ?? ""
                    inline.append(.init(heredoc: marker))
                } else {
                    sources.append(source)
                }
            }
            if keyword == "copy" {
                kind = .copy(.init(sources: sources, inlineSources: inline, destination: destination,
                                   from: flags.string("from"), chown: flags.string("chown"), chmod: flags.string("chmod"),
                                   link: flags.bool("link") ?? false, parents: flags.bool("parents") ?? false,
                                   excludes: flags.strings("exclude")))
            } else {
                kind = .add(.init(sources: sources, inlineSources: inline, destination: destination,
                                  chown: flags.string("chown"), chmod: flags.string("chmod"), link: flags.bool("link") ?? false,
                                  keepGitDir: flags.bool("keep-git-dir"), checksum: flags.string("checksum"),
                                  unpack: flags.bool("unpack"), excludes: flags.strings("exclude")))
            }

        default:
            throw .unknownInstruction(location, node.keyword)
        }
        return Instruction(kind: kind, location: location, keyword: node.keyword, original: original)
    }

    private func parseHealthcheck(_ node: RawNode, flags: inout InstructionFlags,
                                  fail: (String) -> DockerfileError) throws(DockerfileError) -> Instruction.Healthcheck {
        let scalars = Array(node.rest.unicodeScalars)
        guard !scalars.isEmpty else { throw fail("HEALTHCHECK requires at least one argument") }
        var sep = 0
        while sep < scalars.count, !isUnicodeSpace(scalars[sep]) { sep += 1 }
        var next = sep
        while next < scalars.count, isUnicodeSpace(scalars[next]) { next += 1 }
        let type = String(String.UnicodeScalarView(scalars[..<sep])).uppercased()
        let commandText = String(String.UnicodeScalarView(scalars[next...]))
        let args: [String]
        let json: Bool
        switch LineParsers.jsonArray(commandText) {
        case .success(.strings(let s)): (args, json) = (s, true)
        case .failure(let e): throw fail(e.message)
        case .success(.notJSON): (args, json) = (commandText.isEmpty ? [] : [commandText], false)
        }
        if type == "NONE" {
            guard args.isEmpty else { throw fail("HEALTHCHECK NONE takes no arguments") }
            return .init(test: .none)
        }
        try flags.parse(["interval": .string, "timeout": .string, "start-period": .string,
                         "start-interval": .string, "retries": .string], instruction: "HEALTHCHECK", at: location)
        guard type == "CMD" else { throw fail("Unknown type \"\(type)\" in HEALTHCHECK (try CMD)") }
        guard !args.isEmpty else { throw fail("Missing command after HEALTHCHECK CMD") }
        func duration(_ name: String) throws(DockerfileError) -> Int64? {
            guard let text = flags.string(name), !text.isEmpty else { return nil }
            guard let d = LineParsers.goDuration(text) else {
                throw .invalidFlag(location, instruction: "HEALTHCHECK", flag: "--\(name)", "time: invalid duration \"\(text)\"")
            }
            if d == 0 { return nil }
            if d < 1_000_000 {
                throw .invalidFlag(location, instruction: "HEALTHCHECK", flag: "--\(name)", "Interval \"\(name)\" cannot be less than 1ms")
            }
            return d
        }
        var check = Instruction.Healthcheck(test: .command(json ? .exec(args) : .shell(args.joined(separator: " "))))
        check.interval = try duration("interval")
        check.timeout = try duration("timeout")
        check.startPeriod = try duration("start-period")
        check.startInterval = try duration("start-interval")
        if let text = flags.string("retries"), !text.isEmpty {
            guard let retries = Int32(text) else {
                throw .invalidFlag(location, instruction: "HEALTHCHECK", flag: "--retries",
                                   "strconv.ParseInt: parsing \"\(text)\": invalid syntax")
            }
            guard retries >= 0 else {
                throw .invalidFlag(location, instruction: "HEALTHCHECK", flag: "--retries", "--retries cannot be negative (\(retries))")
            }
            check.retries = Int(retries)
        }
        return check
    }

    /// `^[a-z][a-z0-9-_.]*$`
    static func isValidStageName(_ name: String) -> Bool {
        let s = Array(name.unicodeScalars)
        guard let first = s.first, ("a"..."z").contains(first) else { return false }
        return s.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// The line without its leading `ONBUILD` (any case) and the whitespace after it.
    static func droppingOnbuild(_ line: String) -> String {
        var s = Array(line.unicodeScalars)[...]
        s = s.drop(while: isGoSpace)
        if s.count >= 7, String(String.UnicodeScalarView(s.prefix(7))).lowercased() == "onbuild" {
            s = s.dropFirst(7).drop(while: isGoSpace)
        }
        return String(String.UnicodeScalarView(s))
    }
}
