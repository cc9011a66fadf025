"""The `where` parser on its own, then through GET /Contacts."""

from __future__ import annotations

import pytest

from sandbox.xero.where import QueryParseError, compile_where
from tests.sandbox.xero.conftest import XeroApi, contact_names

CONTACTS = [
    {"Name": "Café Zürich", "ContactNumber": "ZC-1", "EmailAddress": "Hi@Cafe.example", "ContactStatus": "ACTIVE",
     "AccountNumber": "ACC-9", "IsSupplier": True, "Discount": 5.0},
    {"Name": "Blue Mountain Bakery", "ContactNumber": "BM-2", "ContactStatus": "ARCHIVED", "IsSupplier": False},
    {"Name": 'Quote "Co"', "ContactNumber": "Q-3", "ContactStatus": "ACTIVE", "IsSupplier": False},
]  # fmt: skip


def matching(expression: str) -> list[str]:
    predicate = compile_where(expression, lambda contact, field: contact.get(field))
    return [c["Name"] for c in CONTACTS if predicate(c)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('Name=="cafe zurich"', ["Café Zürich"]),  # optimised field: case and accent insensitive
        ('Name="CAFÉ ZÜRICH"', ["Café Zürich"]),  # Dynamic LINQ also accepts a single =
        ('ContactNumber=="zc-1"', []),  # not optimised: exact
        ('ContactNumber=="ZC-1"', ["Café Zürich"]),
        ('EmailAddress=="hi@cafe.example"', ["Café Zürich"]),
        ('AccountNumber=="acc-9"', ["Café Zürich"]),
        ('ContactStatus=="ACTIVE"', ["Café Zürich", 'Quote "Co"']),
        ('ContactStatus!="ACTIVE"', ["Blue Mountain Bakery"]),
        ('ContactStatus<>"ACTIVE"', ["Blue Mountain Bakery"]),
        ('ContactNumber=="ZC-1" OR ContactNumber=="BM-2"', ["Café Zürich", "Blue Mountain Bakery"]),
        ('ContactNumber=="ZC-1" || ContactNumber=="BM-2"', ["Café Zürich", "Blue Mountain Bakery"]),
        ('ContactStatus=="ACTIVE" AND ContactNumber=="Q-3"', ['Quote "Co"']),
        ('ContactStatus=="ACTIVE" && ContactNumber=="Q-3"', ['Quote "Co"']),
        ('(ContactNumber=="ZC-1" OR ContactNumber=="BM-2") AND ContactStatus=="ACTIVE"', ["Café Zürich"]),
        ('ContactNumber=="ZC-1" OR ContactNumber=="BM-2" AND ContactStatus=="ACTIVE"', ["Café Zürich"]),
        ('NOT (ContactStatus=="ACTIVE")', ["Blue Mountain Bakery"]),
        ('Name=="Quote \\"Co\\""', ['Quote "Co"']),  # backslash-escaped quotes
        ('Name=="Quote ""Co"""', ['Quote "Co"']),  # doubled quotes
        ('Name.Contains("MOUNTAIN")', ["Blue Mountain Bakery"]),
        ('Name.StartsWith("blue") AND ContactNumber.EndsWith("-2")', ["Blue Mountain Bakery"]),
        ('ContactNumber.ToLower()=="q-3"', ['Quote "Co"']),
        ("IsSupplier==true", ["Café Zürich"]),
        ("IsSupplier", ["Café Zürich"]),
        ("!IsSupplier", ["Blue Mountain Bakery", 'Quote "Co"']),
        ("AccountNumber==null", ["Blue Mountain Bakery", 'Quote "Co"']),
        ("Discount>=5", ["Café Zürich"]),
    ],
)
def test_where_expressions(expression, expected):
    assert matching(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('Name=="unterminated', "Unterminated string literal"),
        ('Colour=="red"', "No property or field 'Colour' exists in type 'Contact'"),
        ('Name=="x" AND', "Expression expected"),
        ('(Name=="x"', "')' expected"),
        ('Name=="x")', "Syntax error"),
        ("Name", "Expression of type 'Boolean' expected"),
        ('IsSupplier=="yes"', "Operator '==' incompatible with operand types 'Boolean' and 'String'"),
        ('Name.Frobnicate("x")', "No applicable method 'Frobnicate'"),
        ("Name == #", "Syntax error"),
    ],
)
def test_unparseable_where_raises(expression, message):
    with pytest.raises(QueryParseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        matching(expression)


def test_where_over_http(xero: XeroApi):
    response = xero.get(
        "/Contacts", params={"where": 'Name=="GREENLEAF ORGANICS" OR ContactNumber=="SUP-0007"'}
    )
    assert response.status_code == 200
    assert contact_names(response) == ["Greenleaf Organics", "Tasman Freight Co"]
    assert contact_names(xero.get("/Contacts", params={"where": 'ContactNumber=="sup-0007"'})) == []


def test_bad_where_is_a_400_query_parse_exception(xero: XeroApi):
    response = xero.get("/Contacts", params={"where": 'Name=="x" AND AND'})
    assert response.status_code == 400
    body = response.json()
    assert (body["ErrorNumber"], body["Type"]) == (16, "QueryParseException")
    assert body["Message"]
