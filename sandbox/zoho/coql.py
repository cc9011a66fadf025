"""COQL (Zoho's CRM Object Query Language): a tokenizer, a recursive-descent parser and an
evaluator over the stand-in's store.

Supported: ``select f1, f2, Lookup.field from Module where <criteria> [order by f [asc|desc], ...]
[limit N [offset M] | limit M, N]`` with =, !=, <, <=, >, >=, [not] in, [not] like, [not] between,
is [not] null, and/or and parentheses. Zoho's rules that clients trip over are kept: WHERE is
mandatory ("missing clause"), more than two criteria must be grouped in pairs (``((A and B) and
C)``), single quotes are escaped by doubling them, booleans only take ``=``, multi-line fields
cannot be filtered on, IN takes at most 50 values, LIMIT at most 2,000 and LIMIT + OFFSET at most
100,000. Text matching ignores case; a criterion on an empty field is false (SQL semantics)
except ``is null``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .metadata import MODULES, TEXT_TYPES, USER_FIELDS, USERS, FieldDef
from .store import Store
from .timefmt import parse_date, parse_datetime

CLAUSE_WORDS = ("select", "from", "where", "order", "by", "asc", "desc", "limit", "offset")
OPERATOR_WORDS = ("and", "or", "not", "in", "is", "null", "like", "between", "true", "false")
KEYWORDS = frozenset((*CLAUSE_WORDS, *OPERATOR_WORDS))
DEFAULT_LIMIT = 200
MAX_LIMIT = 2000
MAX_ROWS = 100_000
MAX_CRITERIA = 25
MAX_ORDER_FIELDS = 10
OPS_TEXT = frozenset({"=", "!=", "like", "not like", "in", "not in", "is null", "is not null"})
OPS_ORDERED = frozenset(
    {"=", "!=", "<", "<=", ">", ">=", "between", "not between", "in", "not in", "is null", "is not null"}
)
OPS_ID = frozenset({"=", "!=", "in", "not in", "is null", "is not null"})
OPS_BOOLEAN = frozenset({"="})


class CoqlError(Exception):
    """A query Zoho would refuse; becomes a 400 with Zoho's COQL error shape."""

    def __init__(self, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(f"{code}: {message} {details}")
        self.code = code
        self.message = message
        self.details = details


# ---------------------------------------------------------------------------------------------
# Tokens


@dataclass(frozen=True)
class Token:
    kind: str  # ident | string | number | op | punct | end
    text: str
    value: Any
    pos: int

    def is_kw(self, word: str) -> bool:
        return self.kind == "ident" and self.text.lower() == word


TOKEN_RE = re.compile(
    r"""(?P<ws>\s+)
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)
      | (?P<op>!=|<>|<=|>=|=|<|>)
      | (?P<punct>[(),.*])""",
    re.VERBOSE,
)


def syntax_error(query: str, pos: int, near: str) -> CoqlError:
    line = query.count("\n", 0, pos) + 1
    column = pos - (query.rfind("\n", 0, pos) + 1) + 1
    return CoqlError("SYNTAX_ERROR", "invalid query formed", {"line": line, "column": column, "near": near})


def _read_quoted(query: str, start: int) -> tuple[str, int]:
    """A quoted string starting at `start`; a doubled quote stands for one quote character."""
    quote, i, chars = query[start], start + 1, []
    while i < len(query):
        if query[i] == quote:
            if query.startswith(quote * 2, i):
                chars.append(quote)
                i += 2
                continue
            return "".join(chars), i + 1
        chars.append(query[i])
        i += 1
    raise syntax_error(query, start, query[start : start + 20])


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(query):
        if query[pos] in "'\"":
            value, end = _read_quoted(query, pos)
            tokens.append(Token("string", query[pos:end], value, pos))
            pos = end
            continue
        match = TOKEN_RE.match(query, pos)
        if match is None:
            raise syntax_error(query, pos, query[pos : pos + 20])
        kind, text = match.lastgroup or "", match.group()
        if kind == "number":
            tokens.append(Token(kind, text, float(text) if "." in text else int(text), pos))
        elif kind != "ws":
            tokens.append(Token(kind, text, text, pos))
        pos = match.end()
    tokens.append(Token("end", "", None, len(query)))
    return tokens


# ---------------------------------------------------------------------------------------------
# Syntax tree


@dataclass(frozen=True)
class Column:
    path: tuple[str, ...]
    text: str
    pos: int


@dataclass(frozen=True)
class Literal:
    kind: str  # string | number | boolean
    value: Any
    pos: int


@dataclass(frozen=True)
class Criterion:
    column: Column
    op: str  # "=", "!=", ..., "in", "not in", "like", "between", "is null", ...
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class Logical:
    op: str  # "and" | "or"
    left: Node
    right: Node


Node = Criterion | Logical


@dataclass
class Query:
    columns: list[Column]
    module: str
    module_pos: int
    where: Node
    order_by: list[tuple[Column, bool]] = field(default_factory=list)  # (column, descending)
    limit: int | None = None
    offset: int = 0


# ---------------------------------------------------------------------------------------------
# Parser


class Parser:
    def __init__(self, query: str, strict_grouping: bool = True) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.i = 0
        self.strict_grouping = strict_grouping

    # -- token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def error(self, token: Token | None = None) -> CoqlError:
        token = token or self.tok
        return syntax_error(self.query, token.pos, token.text or "<end of query>")

    def at_kw(self, word: str) -> bool:
        return self.tok.is_kw(word)

    def accept_kw(self, word: str) -> bool:
        if self.at_kw(word):
            self.advance()
            return True
        return False

    def expect_kw(self, word: str) -> None:
        if not self.accept_kw(word):
            raise self.error()

    def at_punct(self, char: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == char

    def expect_punct(self, char: str) -> None:
        if not self.at_punct(char):
            raise self.error()
        self.advance()

    def expect_int(self) -> int:
        token = self.advance()
        if token.kind != "number" or not isinstance(token.value, int):
            raise self.error(token)
        return token.value

    # -- grammar
    def parse(self) -> Query:
        self.expect_kw("select")
        columns = self.column_list()
        self.expect_kw("from")
        module_token = self.advance()
        if module_token.kind not in ("ident", "string") or module_token.text.lower() in KEYWORDS:
            raise self.error(module_token)
        if not self.accept_kw("where"):
            # Zoho reports this before it even looks at the module name.
            raise CoqlError("SYNTAX_ERROR", "missing clause", {"clause": "where"})
        query = Query(columns, str(module_token.value), module_token.pos, self.condition())
        if self.accept_kw("order"):
            self.expect_kw("by")
            query.order_by = self.order_list()
        if self.accept_kw("limit"):
            self.limit_clause(query)
        if self.tok.kind != "end":
            raise self.error()
        return query

    def column_list(self) -> list[Column]:
        columns = [self.column()]
        while self.at_punct(","):
            self.advance()
            columns.append(self.column())
        return columns

    def column(self) -> Column:
        token = self.advance()
        if token.kind == "string":  # a quoted column name ('External', 'Account_Name.id')
            return Column(tuple(str(token.value).split(".")), str(token.value), token.pos)
        if token.kind != "ident" or token.text.lower() in KEYWORDS:
            raise self.error(token)
        parts = [token.text]
        while self.at_punct("."):
            self.advance()
            part = self.advance()
            if part.kind != "ident":
                raise self.error(part)
            parts.append(part.text)
        return Column(tuple(parts), ".".join(parts), token.pos)

    def condition(self) -> Node:
        """Criteria at one parenthesis level."""
        operands, connectors = [self.operand()], []
        while self.at_kw("and") or self.at_kw("or"):
            connectors.append(self.advance())
            operands.append(self.operand())
        if self.strict_grouping and len(operands) > 2:
            # Zoho: "If WHERE has more than two criteria ... use ((A and B) and C)".
            raise self.error(connectors[1])
        return _combine(operands, [c.text.lower() for c in connectors])

    def operand(self) -> Node:
        if self.at_punct("("):
            self.advance()
            node = self.condition()
            self.expect_punct(")")
            return node
        return self.criterion()

    def criterion(self) -> Criterion:
        column = self.column()
        if self.accept_kw("is"):
            negated = self.accept_kw("not")
            self.expect_kw("null")
            return Criterion(column, "is not null" if negated else "is null", ())
        negated = self.accept_kw("not")
        prefix = "not " if negated else ""
        if self.accept_kw("in"):
            return Criterion(column, prefix + "in", self.literal_list())
        if self.accept_kw("like"):
            return Criterion(column, prefix + "like", (self.literal(),))
        if self.accept_kw("between"):
            low = self.literal()
            self.expect_kw("and")
            return Criterion(column, prefix + "between", (low, self.literal()))
        if negated or self.tok.kind != "op":
            raise self.error()
        op = self.advance().text
        return Criterion(column, "!=" if op == "<>" else op, (self.literal(),))

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect_punct("(")
        values = [self.literal()]
        while self.at_punct(","):
            self.advance()
            values.append(self.literal())
        self.expect_punct(")")
        return tuple(values)

    def literal(self) -> Literal:
        token = self.advance()
        if token.kind == "string":
            return Literal("string", token.value, token.pos)
        if token.kind == "number":
            return Literal("number", token.value, token.pos)
        if token.is_kw("true") or token.is_kw("false"):
            return Literal("boolean", token.text.lower() == "true", token.pos)
        raise self.error(token)

    def order_list(self) -> list[tuple[Column, bool]]:
        items = []
        while True:
            column = self.column()
            descending = self.accept_kw("desc")
            if not descending:
                self.accept_kw("asc")
            items.append((column, descending))
            if not self.at_punct(","):
                return items
            self.advance()

    def limit_clause(self, query: Query) -> None:
        first = self.expect_int()
        if self.at_punct(","):  # "limit offset, count"
            self.advance()
            query.offset, query.limit = first, self.expect_int()
        else:
            query.limit = first
            if self.accept_kw("offset"):
                query.offset = self.expect_int()


def _combine(operands: list[Node], connectors: list[str]) -> Node:
    """Build the tree with AND binding tighter than OR (only reachable with lenient grouping)."""
    groups: list[Node] = [operands[0]]
    for connector, operand in zip(connectors, operands[1:], strict=True):
        if connector == "and":
            groups[-1] = Logical("and", groups[-1], operand)
        else:
            groups.append(operand)
    node = groups[0]
    for group in groups[1:]:
        node = Logical("or", node, group)
    return node


def parse(query: str, strict_grouping: bool = True) -> Query:
    return Parser(query, strict_grouping).parse()


# ---------------------------------------------------------------------------------------------
# Meaning: columns resolved against the module, criteria compiled to predicates


@dataclass(frozen=True)
class Resolved:
    column: Column
    module: str
    field: FieldDef  # the field whose value is read
    via: FieldDef | None = None  # the lookup followed first, for "Lookup.field"

    @property
    def compares_ids(self) -> bool:
        return self.field.data_type == "bigint" or (self.via is None and self.field.is_lookup)


def _invalid_column(column: Column, clause: str) -> CoqlError:
    return CoqlError(
        "INVALID_QUERY", "column given seems to be invalid", {"column_name": column.text, "clause": clause}
    )


def _find(fields: dict[str, FieldDef], name: str) -> FieldDef | None:
    if name in fields:
        return fields[name]
    lowered = name.lower()
    return next((f for key, f in fields.items() if key.lower() == lowered), None)


def resolve(module: str, column: Column, clause: str) -> Resolved:
    if len(column.path) > 2:
        raise _invalid_column(column, clause)
    first = _find(MODULES[module], column.path[0])
    if first is None:
        raise _invalid_column(column, clause)
    if len(column.path) == 1:
        return Resolved(column, module, first)
    if not first.is_lookup:
        raise _invalid_column(column, clause)
    target = first.lookup_module or ""
    target_fields = USER_FIELDS if target == "users" else MODULES[target]
    second = _find(target_fields, column.path[1])
    if second is None:
        raise _invalid_column(column, clause)
    return Resolved(column, target, second, via=first)


def read(store: Store, module: str, resolved: Resolved, record: dict[str, Any]) -> Any:
    """The internal value of a (possibly dotted) column for one record."""
    if resolved.via is None:
        return store.value(module, record, resolved.field.api_name)
    target_id = record.get(resolved.via.api_name)
    if target_id is None:
        return None
    if resolved.module == "users":
        return _user_value(target_id, resolved.field.api_name)
    target = store.get(resolved.module, target_id)
    return None if target is None else store.value(resolved.module, target, resolved.field.api_name)


def _user_value(user_id: str, name: str) -> Any:
    user = USERS.get(user_id)
    if user is None:
        return None
    if name == "id":
        return user_id
    if name == "full_name":
        return f"{user['first_name']} {user['last_name']}"
    return user.get(name)


def _allowed_ops(resolved: Resolved) -> frozenset[str]:
    if resolved.compares_ids:
        return OPS_ORDERED if resolved.field.data_type == "bigint" else OPS_ID
    data_type = resolved.field.data_type
    if data_type == "boolean":
        return OPS_BOOLEAN
    return OPS_TEXT if data_type in TEXT_TYPES else OPS_ORDERED


def _bad_value(resolved: Resolved, expected: str) -> CoqlError:
    return CoqlError(
        "INVALID_QUERY",
        "value given seems to be invalid for the column",
        {"column_name": resolved.column.text, "expected_data_type": expected},
    )


def comparable(resolved: Resolved, literal: Literal) -> Any:
    """The literal converted to the column's comparison type, or a Zoho INVALID_QUERY."""
    data_type = resolved.field.data_type
    value = literal.value
    if resolved.compares_ids:
        text = str(value)
        if literal.kind == "boolean" or not text.isdigit():
            raise _bad_value(resolved, "bigint")
        return int(text)
    if data_type == "boolean":
        if literal.kind == "boolean":
            return value
        if literal.kind == "string" and str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise _bad_value(resolved, "boolean")
    if data_type == "datetime":
        parsed = parse_datetime(value)
        if parsed is None:
            raise _bad_value(resolved, "datetime")
        return parsed.timestamp()
    if data_type == "date":
        if parse_date(value) is None:
            raise _bad_value(resolved, "date")
        return value
    if data_type in ("integer", "double", "percent", "currency"):
        if literal.kind == "boolean":
            raise _bad_value(resolved, data_type)
        try:
            return float(value)
        except ValueError:
            raise _bad_value(resolved, data_type) from None
    if literal.kind == "boolean":
        raise _bad_value(resolved, data_type)
    return str(value).casefold()


def normalise(resolved: Resolved, value: Any) -> Any:
    """A stored value in the same comparison type as `comparable` produces (None = empty)."""
    if value is None or value == "":
        return None
    if resolved.compares_ids:
        return int(value)
    data_type = resolved.field.data_type
    if data_type in ("integer", "double", "percent", "currency", "datetime"):
        return float(value)
    if isinstance(value, str):
        return value.casefold()
    return value


def _like(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in pattern.split("%"))
    return re.compile(".*".join(parts), re.DOTALL)


Predicate = Callable[[dict[str, Any]], bool]


def _test(op: str, operands: list[Any]) -> Callable[[Any], bool]:
    """A test of one normalised, non-empty value."""
    first = operands[0] if operands else None
    tests: dict[str, Callable[[Any], bool]] = {
        "=": lambda v: v == first,
        "!=": lambda v: v != first,
        "<": lambda v: v < first,
        "<=": lambda v: v <= first,
        ">": lambda v: v > first,
        ">=": lambda v: v >= first,
        "in": lambda v: v in operands,
        "not in": lambda v: v not in operands,
        "between": lambda v: operands[0] <= v <= operands[1],
        "not between": lambda v: not operands[0] <= v <= operands[1],
    }
    if op in ("like", "not like"):
        pattern = _like(str(first))
        return (
            (lambda v: bool(pattern.fullmatch(str(v))))
            if op == "like"
            else (lambda v: not pattern.fullmatch(str(v)))
        )
    return tests[op]


@dataclass
class Plan:
    query: Query
    module: str
    columns: list[Resolved]
    predicate: Predicate
    order: list[tuple[Resolved, bool]]
    limit: int
    offset: int


class Planner:
    def __init__(self, store: Store, max_in_values: int = 50, max_select_fields: int = 50) -> None:
        self.store = store
        self.max_in_values = max_in_values
        self.max_select_fields = max_select_fields

    def plan(self, query: Query) -> Plan:
        module = _find_module(query.module)
        limit = DEFAULT_LIMIT if query.limit is None else query.limit
        self._check_limits(query, limit)
        columns = self._select(module, query.columns)
        predicate = self._compile(module, query.where)
        order = self._order(module, query.order_by)
        return Plan(query, module, columns, predicate, order, limit, query.offset)

    def _check_limits(self, query: Query, limit: int) -> None:
        if len(query.columns) > self.max_select_fields:
            raise CoqlError(
                "LIMIT_EXCEEDED",
                "select column limit exceeded",
                {"clause": "select", "limit": self.max_select_fields},
            )
        if _count_criteria(query.where) > MAX_CRITERIA:
            raise CoqlError(
                "LIMIT_EXCEEDED", "criteria limit exceeded", {"clause": "where", "limit": MAX_CRITERIA}
            )
        if limit < 1:
            raise CoqlError(
                "INVALID_QUERY", "invalid query formed", {"clause": "limit", "reason": "limit < 1"}
            )
        if limit > MAX_LIMIT:
            raise CoqlError("LIMIT_EXCEEDED", "limit exceeded", {"clause": "limit", "limit": MAX_LIMIT})
        if query.offset + limit > MAX_ROWS:
            raise CoqlError("LIMIT_EXCEEDED", "max records limit exceeded", {"limit": MAX_ROWS})

    def _select(self, module: str, columns: list[Column]) -> list[Resolved]:
        seen: set[str] = set()
        out = []
        for column in columns:
            if column.text.lower() in seen:
                raise CoqlError(
                    "DUPLICATE_DATA", "duplicate data", {"clause": "select", "column_name": column.text}
                )
            seen.add(column.text.lower())
            out.append(resolve(module, column, "select"))
        return out

    def _order(self, module: str, order_by: list[tuple[Column, bool]]) -> list[tuple[Resolved, bool]]:
        if len(order_by) > MAX_ORDER_FIELDS:
            raise CoqlError(
                "LIMIT_EXCEEDED", "order by limit exceeded", {"clause": "order by", "limit": MAX_ORDER_FIELDS}
            )
        names = [column.text.lower() for column, _ in order_by]
        for name in names:
            if names.count(name) > 1:
                raise CoqlError(
                    "DUPLICATE_DATA", "duplicate data", {"clause": "order by", "column_name": name}
                )
        return [(resolve(module, column, "order by"), desc) for column, desc in order_by]

    def _compile(self, module: str, node: Node) -> Predicate:
        if isinstance(node, Logical):
            left, right = self._compile(module, node.left), self._compile(module, node.right)
            if node.op == "and":
                return lambda record: left(record) and right(record)
            return lambda record: left(record) or right(record)
        return self._criterion(module, node)

    def _criterion(self, module: str, criterion: Criterion) -> Predicate:
        resolved = resolve(module, criterion.column, "where")
        data_type = resolved.field.data_type
        if data_type == "textarea":
            raise CoqlError(
                "INVALID_QUERY",
                "data type not supported",
                {"column_name": criterion.column.text, "data_type": data_type, "clause": "where"},
            )
        if criterion.op not in _allowed_ops(resolved):
            raise CoqlError(
                "INVALID_QUERY",
                "invalid operator found",
                {"column_name": criterion.column.text, "operator": criterion.op, "clause": "where"},
            )
        if criterion.op.endswith("in") and len(criterion.values) > self.max_in_values:
            raise CoqlError(
                "LIMIT_EXCEEDED",
                "in values limit exceeded",
                {"clause": "where", "operator": criterion.op, "limit": self.max_in_values},
            )
        if criterion.op.endswith("like") and criterion.values[0].kind != "string":
            raise _bad_value(resolved, "text")
        operands = [comparable(resolved, literal) for literal in criterion.values]
        return self._predicate(module, resolved, criterion.op, operands)

    def _predicate(self, module: str, resolved: Resolved, op: str, operands: list[Any]) -> Predicate:
        store = self.store
        if op in ("is null", "is not null"):
            wanted = op == "is null"
            return lambda record: (
                (normalise(resolved, read(store, module, resolved, record)) is None) == wanted
            )
        test = _test(op, operands)

        def predicate(record: dict[str, Any]) -> bool:
            value = normalise(resolved, read(store, module, resolved, record))
            return value is not None and test(value)

        return predicate


def _find_module(name: str) -> str:
    for module in MODULES:
        if module.lower() == name.lower():
            return module
    raise CoqlError("INVALID_MODULE", "the module name given seems to be invalid", {"module": name})


def _count_criteria(node: Node) -> int:
    if isinstance(node, Logical):
        return _count_criteria(node.left) + _count_criteria(node.right)
    return 1


# ---------------------------------------------------------------------------------------------
# Running


@dataclass
class Result:
    rows: list[dict[str, Any]]
    more_records: bool
    limit: int


def _sort_key(store: Store, plan: Plan, resolved: Resolved) -> Callable[[dict[str, Any]], Any]:
    def key(record: dict[str, Any]) -> Any:
        value = normalise(resolved, read(store, plan.module, resolved, record))
        return (value is not None, value if value is not None else 0)  # empty values sort first

    return key


def execute(plan: Plan, store: Store) -> Result:
    matched = [record for record in store.all(plan.module) if plan.predicate(record)]
    matched.sort(key=lambda record: int(record["id"]))
    for resolved, descending in reversed(plan.order):
        matched.sort(key=_sort_key(store, plan, resolved), reverse=descending)
    page = matched[plan.offset : plan.offset + plan.limit]
    rows = [_render(store, plan, record) for record in page]
    return Result(rows, len(matched) > plan.offset + plan.limit, plan.limit)


def _render(store: Store, plan: Plan, record: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for resolved in plan.columns:
        value = read(store, plan.module, resolved, record)
        if resolved.module == "users":
            row[resolved.column.text] = value
        else:
            row[resolved.column.text] = store.render_value(resolved.module, resolved.field, value)
    row["id"] = record["id"]
    return row


def run(
    text: str,
    store: Store,
    strict_grouping: bool = True,
    max_in_values: int = 50,
    max_select_fields: int = 50,
) -> Result:
    """Parse, check and run one select query (raises CoqlError like Zoho would refuse it)."""
    query = parse(text, strict_grouping)
    plan = Planner(store, max_in_values, max_select_fields).plan(query)
    return execute(plan, store)


def credits_for(limit: int) -> int:
    """COQL costs by page size: 1-200 -> 1, 201-1,000 -> 2, 1,001-2,000 -> 3."""
    if limit <= 200:
        return 1
    return 2 if limit <= 1000 else 3
