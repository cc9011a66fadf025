"""The `where` filter of GET /Contacts: a small subset of .NET Dynamic LINQ, as Xero accepts it.

Supported: `==`/`=`, `!=`/`<>`, `<`, `<=`, `>`, `>=`; `AND`/`&&`, `OR`/`||`, `NOT`/`!`; parentheses;
string literals in double quotes (escape a quote as `\\"` or `""`); `true`/`false`/`null`; numbers;
`Guid("...")` and `DateTime(y, m, d[, h, mi, s])`; `.Contains/.StartsWith/.EndsWith("x")` and
`.ToLower()/.ToUpper()/.Trim()` on string fields.

Xero's optimised fields (`Name`, `EmailAddress`, `AccountNumber`) compare case- and
accent-insensitively; every other field compares exactly (notes §1: ContactNumber is *not* optimised).
Errors are raised as `QueryParseError` with Dynamic-LINQ-like messages; Xero answers them as a 400
`QueryParseException` (ErrorNumber 16).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]
Getter = Callable[[dict[str, Any]], Any]

STRING, BOOLEAN, NUMBER, DATETIME, GUID, NULL = "String", "Boolean", "Number", "DateTime", "Guid", "Null"

# Scalar Contact properties (spec components.schemas.Contact) and their LINQ types.
FIELD_TYPES: dict[str, str] = {
    **dict.fromkeys(
        [
            "ContactNumber", "AccountNumber", "ContactStatus", "Name", "FirstName", "LastName",
            "CompanyNumber", "EmailAddress", "BankAccountDetails", "TaxNumber", "TaxNumberType",
            "AccountsReceivableTaxType", "AccountsPayableTaxType", "SalesDefaultLineAmountType",
            "PurchasesDefaultLineAmountType", "DefaultCurrency", "XeroNetworkKey",
            "SalesDefaultAccountCode", "PurchasesDefaultAccountCode", "TrackingCategoryName",
            "TrackingCategoryOption", "Website",
        ],
        STRING,
    ),
    "ContactID": GUID,
    "MergedToContactID": GUID,
    "IsSupplier": BOOLEAN,
    "IsCustomer": BOOLEAN,
    "HasAttachments": BOOLEAN,
    "HasValidationErrors": BOOLEAN,
    "Discount": NUMBER,
    "UpdatedDateUTC": DATETIME,
}  # fmt: skip
FOLDED_FIELDS = frozenset({"Name", "EmailAddress", "AccountNumber"})
PREDICATE_METHODS = {"Contains": str.__contains__, "StartsWith": str.startswith, "EndsWith": str.endswith}
STRING_METHODS = {"ToLower": str.lower, "ToUpper": str.upper, "Trim": str.strip}
COMPARE_OPS = {"==": "==", "=": "==", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.|"")*")
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<>|<=|>=|&&|\|\||[=<>!().,])
    )""",
    re.VERBOSE,
)


class QueryParseError(ValueError):
    pass


@dataclass
class Token:
    kind: str  # string | number | ident | op | end
    text: str
    pos: int


@dataclass
class Expr:
    """A compiled sub-expression: how to read its value, its LINQ type, and the field it reads
    (so comparisons know when to fold case and accents)."""

    get: Getter
    type: str
    folded: bool = False


def fold(value: str) -> str:
    """Case- and accent-insensitive comparison key (what Xero's collation does for optimised fields)."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = TOKEN_RE.match(text, pos)
        if not match:
            if text[pos:].lstrip().startswith('"'):
                raise QueryParseError("Unterminated string literal")
            raise QueryParseError(f"Syntax error '{text[pos:].lstrip()[:1]}'")
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def compile_where(text: str, value_of: Callable[[dict[str, Any], str], Any]) -> Predicate:
    """Parse `text` into a predicate over contacts; `value_of(contact, field)` reads a field."""
    parser = _Parser(tokenize(text), value_of)
    expr = parser.parse_or()
    if parser.peek().kind != "end":
        raise QueryParseError(f"Syntax error '{parser.peek().text}'")
    if expr.type != BOOLEAN:
        raise QueryParseError("Expression of type 'Boolean' expected")
    return lambda contact: bool(expr.get(contact))


class _Parser:
    def __init__(self, tokens: list[Token], value_of: Callable[[dict[str, Any], str], Any]) -> None:
        self.tokens = tokens
        self.index = 0
        self.value_of = value_of

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise QueryParseError(f"'{text}' expected")

    def _is_keyword(self, *words: str) -> bool:
        token = self.peek()
        return (token.kind == "op" and token.text in words) or (
            token.kind == "ident" and token.text.upper() in words
        )

    # Precedence climbing: OR < AND < NOT < comparison < primary.
    def parse_or(self) -> Expr:
        left = self.parse_and()
        while self._is_keyword("OR", "||"):
            self.take()
            left = _logical(left, self.parse_and(), any)
        return left

    def parse_and(self) -> Expr:
        left = self.parse_not()
        while self._is_keyword("AND", "&&"):
            self.take()
            left = _logical(left, self.parse_not(), all)
        return left

    def parse_not(self) -> Expr:
        if self._is_keyword("NOT", "!"):
            self.take()
            inner = self.parse_not()
            _require_boolean(inner, "!")
            return Expr(lambda c: not inner.get(c), BOOLEAN)
        return self.parse_comparison()

    def parse_comparison(self) -> Expr:
        left = self.parse_primary()
        token = self.peek()
        if token.kind == "op" and token.text in COMPARE_OPS:
            self.take()
            return _compare(COMPARE_OPS[token.text], token.text, left, self.parse_primary())
        return left

    def parse_primary(self) -> Expr:
        token = self.take()
        if token.kind == "op" and token.text == "(":
            inner = self.parse_or()
            self.expect(")")
            return inner
        if token.kind == "string":
            return _constant(_unquote(token.text), STRING)
        if token.kind == "number":
            return _constant(float(token.text), NUMBER)
        if token.kind == "ident":
            return self._identifier(token)
        if token.kind == "end":
            raise QueryParseError("Expression expected")
        raise QueryParseError(f"Syntax error '{token.text}'")

    def _identifier(self, token: Token) -> Expr:
        word = token.text
        if word.lower() in ("true", "false"):
            return _constant(word.lower() == "true", BOOLEAN)
        if word.lower() == "null":
            return _constant(None, NULL)
        if word in ("Guid", "DateTime") and self.peek().text == "(":
            return self._constructor(word)
        if word not in FIELD_TYPES:
            raise QueryParseError(f"No property or field '{word}' exists in type 'Contact'")
        expr = Expr(lambda c, f=word: self.value_of(c, f), FIELD_TYPES[word], word in FOLDED_FIELDS)
        while self.peek().text == ".":
            self.take()
            expr = self._method(expr, self.take())
        return expr

    def _arguments(self) -> list[Expr]:
        self.expect("(")
        args: list[Expr] = []
        while self.peek().text != ")":
            args.append(self.parse_or())
            if self.peek().text == ",":
                self.take()
            elif self.peek().text != ")":
                raise QueryParseError("')' or ',' expected")
        self.take()
        return args

    def _constructor(self, word: str) -> Expr:
        args = self._arguments()
        try:
            if word == "Guid":
                (arg,) = args
                return _constant(str(arg.get({})).lower(), GUID)
            parts = [int(a.get({})) for a in args]
            return _constant(datetime(*parts, tzinfo=UTC).timestamp(), DATETIME)  # type: ignore[misc]
        except (ValueError, TypeError) as exc:
            raise QueryParseError(f"No applicable constructor exists in type '{word}'") from exc

    def _method(self, target: Expr, name: Token) -> Expr:
        args = self._arguments()
        if target.type != STRING:
            raise QueryParseError(f"No applicable method '{name.text}' exists in type '{target.type}'")
        if name.text in STRING_METHODS and not args:
            op = STRING_METHODS[name.text]
            return Expr(lambda c: _apply(op, target.get(c)), STRING, target.folded)
        if name.text in PREDICATE_METHODS and len(args) == 1 and args[0].type == STRING:
            test, needle = PREDICATE_METHODS[name.text], args[0]
            return Expr(lambda c: _test(test, target, needle, c), BOOLEAN)
        raise QueryParseError(f"No applicable method '{name.text}' exists in type 'String'")


def _unquote(literal: str) -> str:
    body = literal[1:-1].replace('""', '"')
    return re.sub(r"\\(.)", r"\1", body)


def _constant(value: Any, kind: str) -> Expr:
    return Expr(lambda _c: value, kind)


def _apply(op: Callable[[str], str], value: Any) -> Any:
    return op(value) if isinstance(value, str) else value


def _test(test: Callable[[str, str], bool], target: Expr, needle: Expr, contact: dict[str, Any]) -> bool:
    haystack, what = target.get(contact), needle.get(contact)
    if not isinstance(haystack, str) or not isinstance(what, str):
        return False
    if target.folded:
        haystack, what = fold(haystack), fold(what)
    return test(haystack, what)


def _require_boolean(expr: Expr, op: str) -> None:
    if expr.type != BOOLEAN:
        raise QueryParseError(f"Operator '{op}' incompatible with operand type '{expr.type}'")


def _logical(left: Expr, right: Expr, combine: Callable[[Any], bool]) -> Expr:
    _require_boolean(left, "&&" if combine is all else "||")
    _require_boolean(right, "&&" if combine is all else "||")
    return Expr(lambda c: combine(e.get(c) for e in (left, right)), BOOLEAN)


def _compatible(a: str, b: str) -> bool:
    if NULL in (a, b) or a == b:
        return True
    return {a, b} == {GUID, STRING}  # Xero accepts ContactID=="<guid>" as well as Guid("...")


def _compare(op: str, spelled: str, left: Expr, right: Expr) -> Expr:
    if not _compatible(left.type, right.type):
        raise QueryParseError(
            f"Operator '{spelled}' incompatible with operand types '{left.type}' and '{right.type}'"
        )
    folded = left.folded or right.folded
    guid = GUID in (left.type, right.type)

    def key(value: Any) -> Any:
        if isinstance(value, str) and (folded or guid):
            return fold(value) if folded else value.lower()
        return value

    def run(contact: dict[str, Any]) -> bool:
        a, b = key(left.get(contact)), key(right.get(contact))
        if op in ("==", "!="):
            return (a == b) == (op == "==")
        if a is None or b is None:
            return False
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]

    return Expr(run, BOOLEAN)
