import FulcrumCore

/// A value a condition reads or computes: what an order's fields hold.
public enum ConditionValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case list([ConditionValue])

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? "\(Int64(value))" : "\(value)"
        case .string(let value): "'\(value)'"
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// A parsed condition of the policy language (`docs/orchestration.md`):
///
///     condition  := or
///     or         := and ("or" and)*
///     and        := unary ("and" unary)*
///     unary      := "not" unary | comparison
///     comparison := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in") operand)?
///     operand    := number | 'text' | "text" | true | false | null | field
///                 | "[" operand ("," operand)* "]" | "(" condition ")"
///     field      := name ("." name)*
///
/// Fields are checked when parsing (`OrderFields.isKnown`), so a typo is a
/// parse error, not a condition that is silently false. A comparison of a
/// missing value (null) or of different types is false (`!=`: true).
public struct Condition: Sendable, Hashable, CustomStringConvertible {
    indirect enum Node: Sendable, Hashable {
        case literal(ConditionValue)
        case field(String)
        case list([Node])
        case not(Node)
        case and(Node, Node)
        case or(Node, Node)
        case compare(Node, Operator, Node)
    }

    enum Operator: String, Sendable, Hashable, CaseIterable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case isIn = "in"
    }

    let root: Node
    /// The text it was parsed from.
    public let source: String
    public var description: String { source }

    /// Parses `source`; errors are `invalid_policy` at `path` with the 1-based column.
    public init(_ source: String, path: String, isKnownField: @escaping (String) -> Bool = OrderFields.isKnown)
        throws(FulcrumError)
    {
        var parser = Parser(source: source, path: path, isKnownField: isKnownField)
        root = try parser.parse()
        self.source = source
    }

    /// True when the condition holds for the values `field` returns.
    public func holds(_ field: (String) -> ConditionValue) -> Bool {
        Self.truth(Self.evaluate(root, field))
    }

    private static func truth(_ value: ConditionValue) -> Bool {
        switch value {
        case .bool(let value): value
        case .null: false
        case .number(let value): value != 0
        case .string(let value): !value.isEmpty
        case .list(let items): !items.isEmpty
        }
    }

    private static func evaluate(_ node: Node, _ field: (String) -> ConditionValue) -> ConditionValue {
        switch node {
        case .literal(let value): return value
        case .field(let name): return field(name)
        case .list(let items): return .list(items.map { evaluate($0, field) })
        case .not(let inner): return .bool(!truth(evaluate(inner, field)))
        case .and(let left, let right): return .bool(truth(evaluate(left, field)) && truth(evaluate(right, field)))
        case .or(let left, let right): return .bool(truth(evaluate(left, field)) || truth(evaluate(right, field)))
        case .compare(let left, let op, let right):
            return .bool(compare(evaluate(left, field), op, evaluate(right, field)))
        }
    }

    private static func compare(_ left: ConditionValue, _ op: Operator, _ right: ConditionValue) -> Bool {
        switch op {
        case .equal: return left == right
        case .notEqual: return left != right
        case .isIn:
            guard case .list(let items) = right else { return false }
            return items.contains(left)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order: Int
            switch (left, right) {
            case (.number(let a), .number(let b)): order = a < b ? -1 : (a == b ? 0 : 1)
            case (.string(let a), .string(let b)): order = a < b ? -1 : (a == b ? 0 : 1)
            default: return false
            }
            switch op {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        }
    }
}

/// Recursive descent over the condition's characters.
private struct Parser {
    enum Token: Equatable {
        case number(Double), string(String), name(String), symbol(String), end
    }

    let characters: [Character]
    let path: String
    let isKnownField: (String) -> Bool
    var index = 0
    var token: Token = .end
    var tokenColumn = 1

    init(source: String, path: String, isKnownField: @escaping (String) -> Bool) {
        characters = Array(source)
        self.path = path
        self.isKnownField = isKnownField
    }

    mutating func parse() throws(FulcrumError) -> Condition.Node {
        try advance()
        if token == .end { throw error("the condition is empty") }
        let node = try parseOr()
        guard token == .end else { throw error("unexpected \(describe(token))") }
        return node
    }

    func error(_ message: String) -> FulcrumError {
        FulcrumError(.invalidPolicy, "column \(tokenColumn): \(message)", path: path)
    }

    func describe(_ token: Token) -> String {
        switch token {
        case .number(let value): "number \(ConditionValue.number(value))"
        case .string(let value): "text '\(value)'"
        case .name(let value): "'\(value)'"
        case .symbol(let value): "'\(value)'"
        case .end: "the end of the condition"
        }
    }

    mutating func parseOr() throws(FulcrumError) -> Condition.Node {
        var node = try parseAnd()
        while token == .name("or") {
            try advance()
            node = .or(node, try parseAnd())
        }
        return node
    }

    mutating func parseAnd() throws(FulcrumError) -> Condition.Node {
        var node = try parseUnary()
        while token == .name("and") {
            try advance()
            node = .and(node, try parseUnary())
        }
        return node
    }

    mutating func parseUnary() throws(FulcrumError) -> Condition.Node {
        if token == .name("not") {
            try advance()
            return .not(try parseUnary())
        }
        let left = try parseOperand()
        let op: Condition.Operator?
        switch token {
        case .symbol(let symbol): op = Condition.Operator(rawValue: symbol)
        case .name("in"): op = .isIn
        default: op = nil
        }
        guard let op else { return left }
        try advance()
        if token == .end { throw error("expected a value after '\(op.rawValue)'") }
        return .compare(left, op, try parseOperand())
    }

    mutating func parseOperand() throws(FulcrumError) -> Condition.Node {
        let current = token
        switch current {
        case .number(let value):
            try advance()
            return .literal(.number(value))
        case .string(let value):
            try advance()
            return .literal(.string(value))
        case .name("true"), .name("false"):
            try advance()
            return .literal(.bool(current == .name("true")))
        case .name("null"):
            try advance()
            return .literal(.null)
        case .name(let name) where !["and", "or", "not", "in"].contains(name):
            guard isKnownField(name) else { throw error("unknown field '\(name)'") }
            try advance()
            return .field(name)
        case .symbol("("):
            try advance()
            let inner = try parseOr()
            guard token == .symbol(")") else { throw error("expected ')' but found \(describe(token))") }
            try advance()
            return inner
        case .symbol("["):
            try advance()
            var items: [Condition.Node] = []
            if token != .symbol("]") {
                items.append(try parseOperand())
                while token == .symbol(",") {
                    try advance()
                    items.append(try parseOperand())
                }
            }
            guard token == .symbol("]") else { throw error("expected ']' or ',' but found \(describe(token))") }
            try advance()
            return .list(items)
        default:
            throw error("expected a value but found \(describe(current))")
        }
    }

    /// Reads the next token into `token`.
    mutating func advance() throws(FulcrumError) {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
        tokenColumn = index + 1
        guard index < characters.count else {
            token = .end
            return
        }
        let first = characters[index]
        if first == "'" || first == "\"" {
            var text = ""
            index += 1
            while index < characters.count, characters[index] != first {
                text.append(characters[index])
                index += 1
            }
            guard index < characters.count else { throw error("the text starting here has no closing \(first)") }
            index += 1
            token = .string(text)
        } else if first.isNumber || (first == "-" && index + 1 < characters.count && characters[index + 1].isNumber) {
            var text = String(first)
            index += 1
            while index < characters.count, characters[index].isNumber || characters[index] == "." {
                text.append(characters[index])
                index += 1
            }
            guard let value = Double(text) else { throw error("'\(text)' is not a number") }
            token = .number(value)
        } else if first.isLetter || first == "_" {
            var text = ""
            while index < characters.count,
                characters[index].isLetter || characters[index].isNumber || characters[index] == "_"
                    || characters[index] == "." || characters[index] == "-"
            {
                text.append(characters[index])
                index += 1
            }
            token = .name(text)
        } else {
            let two = index + 1 < characters.count ? String(characters[index...index + 1]) : ""
            if ["==", "!=", "<=", ">="].contains(two) {
                index += 2
                token = .symbol(two)
            } else if "<>()[],".contains(first) {
                index += 1
                token = .symbol(String(first))
            } else if first == "=" {
                throw error("'=' is not an operator; compare with '=='")
            } else {
                throw error("unexpected character '\(first)'")
            }
        }
    }
}
