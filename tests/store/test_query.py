"""The search language's parser, scoping rules, formatting, and its errors (positions included)."""

from __future__ import annotations

import random
from datetime import date

import pytest

from photo_tagger.store.query import (
    MAX_LENGTH,
    And,
    DateRange,
    Expand,
    Filter,
    FolderPrefix,
    HasTag,
    MatchAll,
    Not,
    Or,
    QueryError,
    TagTerm,
    format_query,
    parse_query,
    resolve,
)

T = TagTerm


def F(field: str, *values: str) -> Filter:  # noqa: N802
    return Filter(field, frozenset(values))


def S(*values: str) -> frozenset[str]:  # noqa: N802
    return frozenset(values)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("", MatchAll()),
        ("   ", MatchAll()),
        ("dog", T("dog")),
        ("Dog", T("dog")),
        ("dog beach", And((T("dog"), T("beach")))),
        ("dog AND beach", And((T("dog"), T("beach")))),
        ("dog OR cat", Or((T("dog"), T("cat")))),
        ("a b OR c", Or((And((T("a"), T("b"))), T("c")))),
        ("a OR b c", Or((T("a"), And((T("b"), T("c")))))),
        ("(a OR b) c", And((Or((T("a"), T("b"))), T("c")))),
        ("a (b OR (c d))", And((T("a"), Or((T("b"), And((T("c"), T("d")))))))),
        ("dog(cat)", And((T("dog"), T("cat")))),
        ("-night", Not(T("night"))),
        ("NOT night", Not(T("night"))),
        ("dog -night", And((T("dog"), Not(T("night"))))),
        ("-(a OR b)", Not(Or((T("a"), T("b"))))),
        ("NOT NOT a", Not(Not(T("a")))),
        ("--a", Not(Not(T("a")))),
        ('"golden retriever"', T("golden retriever")),
        ('"  Golden   Retriever "', T("golden retriever")),
        ('-"golden retriever"', Not(T("golden retriever"))),
        ("t-shirt", T("t-shirt")),
        ("a~b", T("a~b")),
        ("or", T("or")),  # keywords are upper case; "or" is a tag
        ("tag:or", T("or")),
        ("TAG:OR", T("or")),
        ('tag:"-x y"', T("-x y")),
        ("~dog", Expand("dog")),
        ('~"golden retriever"', Expand("golden retriever")),
        ("-~dog", Not(Expand("dog"))),
        ("source:user", F("source", "user")),
        ("source:Tagger,DETECTOR", F("source", "tagger", "detector")),
        ("state:suggested", F("state", "suggested")),
        ("-state:rejected", Not(F("state", "rejected"))),
        ("folder:/home/me/Pictures", FolderPrefix("/home/me/Pictures")),
        ('folder:"/home/me/My Pictures (old)"', FolderPrefix("/home/me/My Pictures (old)")),
        ("folder:C:\\Photos", FolderPrefix("C:\\Photos")),
        ("folder:%_", FolderPrefix("%_")),
        ("date:2021", DateRange(date(2021, 1, 1), date(2022, 1, 1))),
        ("date:2021-06", DateRange(date(2021, 6, 1), date(2021, 7, 1))),
        ("date:2021-12", DateRange(date(2021, 12, 1), date(2022, 1, 1))),
        ("date:2021-6-1", DateRange(date(2021, 6, 1), date(2021, 6, 2))),
        ("date:2020-02-29", DateRange(date(2020, 2, 29), date(2020, 3, 1))),
        ("date:2020..2021", DateRange(date(2020, 1, 1), date(2022, 1, 1))),
        ("date:2021-06..", DateRange(date(2021, 6, 1), None)),
        ("date:..2019-03", DateRange(None, date(2019, 4, 1))),
        ("date:2021-06-01..2021-06-01", DateRange(date(2021, 6, 1), date(2021, 6, 2))),
        ("date:9999", DateRange(date(9999, 1, 1), None)),
        ("dog 犬 ñandú", And((T("dog"), T("犬"), T("ñandú")))),
    ],
)
def test_parse(text: str, tree: object) -> None:
    assert parse_query(text) == tree
    assert parse_query(format_query(parse_query(text))) == tree  # the canonical form reads back the same


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("dog source:user", T("dog", sources=S("user"))),
        ("dog state:suggested", T("dog", states=S("suggested"))),
        ("dog source:glove state:accepted,rejected", T("dog", sources=S("glove"), states=S("accepted", "rejected"))),
        ("(dog OR cat) source:detector", Or((T("dog", sources=S("detector")), T("cat", sources=S("detector"))))),
        ("dog OR cat source:detector", Or((T("dog"), T("cat", sources=S("detector"))))),
        ("-dog state:suggested", Not(T("dog", states=S("suggested")))),
        ("source:user source:glove dog", T("dog", sources=S())),
        ("state:suggested", HasTag(states=S("suggested"))),
        (
            "state:suggested date:2021",
            And((HasTag(states=S("suggested")), DateRange(date(2021, 1, 1), date(2022, 1, 1)))),
        ),
        ("-state:suggested", Not(HasTag(states=S("suggested")))),
        ("dog -source:glove", And((T("dog"), Not(HasTag(sources=S("glove")))))),
        ("source:user (state:suggested OR cat)", Or((HasTag(S("user"), S("suggested")), T("cat", sources=S("user"))))),
        ("(a b) c", And((T("a"), T("b"), T("c")))),
        ("a (b source:user)", And((T("a"), T("b", sources=S("user"))))),
    ],
)
def test_resolve_scopes_filters(text: str, resolved: object) -> None:
    assert resolve(parse_query(text)) == resolved


def test_resolve_refuses_unexpanded_terms() -> None:
    with pytest.raises(ValueError, match="expand"):
        resolve(parse_query("~dog"))


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ('"dog', 0, "never closed"),
        ('dog "golden', 4, "never closed"),
        ("(dog", 0, "never closed"),
        ("dog)", 3, "no matching '('"),
        (")", 0, "no matching '('"),
        ("()", 0, "empty parentheses"),
        ("-", 0, "'-' must be followed"),
        ("dog -", 4, "'-' must be followed"),
        ("- dog", 0, "'-' must be followed"),
        ("(-)", 1, "'-' must be followed"),
        ("NOT", 0, "NOT must be followed"),
        ("dog NOT", 4, "NOT must be followed"),
        ("OR", 0, "OR needs a term before it"),
        ("OR OR", 0, "OR needs a term before it"),
        ("dog OR", 4, "OR needs a term after it"),
        ("dog OR OR cat", 4, "OR needs a term after it"),
        ("AND dog", 0, "AND needs a term before it"),
        ("dog AND", 4, "AND needs a term after it"),
        ('""', 0, "empty tag"),
        ('"   "', 0, "empty tag"),
        ("tag:", 0, "'tag:' needs a value"),
        ("date:", 0, "'date:' needs a value"),
        ("foo:bar", 0, "unknown field 'foo:'"),
        ("http://example.com", 0, "unknown field 'http:'"),
        (":", 0, "unknown field ':'"),
        ("source:bogus", 7, "unknown source 'bogus'"),
        ("source:user,bogus", 12, "unknown source 'bogus'"),
        ("state:maybe", 6, "unknown state 'maybe'"),
        ("date:2021-13", 10, "no month 13"),
        ("date:2021-00", 10, "no month 00"),
        ("date:2021-02-30", 13, "not a day"),
        ("date:21", 5, "not a date"),
        ("date:2021/06", 5, "not a date"),
        ("date:0000", 5, "no year 0000"),
        ("date:2022..2021", 5, "ends before it starts"),
        ("date:..", 5, "at least one end"),
        ("date:2021..2022..2023", 11, "not a date"),
        ("~", 0, "'~' must be followed"),
        ("~tag:x", 0, "plain word"),
        ('dog"cat"', 3, "put a space"),
        ('"dog"cat', 5, "put a space"),
        ("\ud800", 0, "invalid character"),
        ("dog \udcff", 4, "invalid character"),
    ],
)
def test_errors_say_where_and_what(text: str, position: int, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    error = caught.value
    assert error.position == position
    assert message in error.message
    assert error.query == text
    assert f"(at character {position + 1})" in str(error)
    assert error.pointer().splitlines()[-1] == " " * position + "^"


def test_limits() -> None:
    with pytest.raises(QueryError, match="too long") as caught:
        parse_query("a" * (MAX_LENGTH + 1))
    assert caught.value.position == MAX_LENGTH
    with pytest.raises(QueryError, match="too many terms"):
        parse_query(" ".join(["dog"] * 60))
    with pytest.raises(QueryError, match="nested too deeply"):
        parse_query("(" * 30 + "dog" + ")" * 30)
    with pytest.raises(QueryError, match="nested too deeply"):
        parse_query("NOT " * 30 + "dog")
    parse_query("(" * 10 + "dog" + ")" * 10)  # reasonable nesting is fine


FRAGMENTS = ['dog', 'cat', ' ', ' ', '(', ')', '"', '-', '~', 'OR', 'AND', 'NOT', ':', 'tag:', 'date:', '2021', '..',
             '-06', 'source:', 'state:', 'user', 'folder:', '/p', ',', '%', '_', 'é', '犬', '\t', "'", ';']  # fmt: skip


def test_random_strings_parse_or_raise_query_error() -> None:
    rng = random.Random(1234)
    for _ in range(3000):
        text = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 12)))
        try:
            tree = parse_query(text)
        except QueryError as error:
            assert 0 <= error.position <= len(text), text
            continue
        assert parse_query(format_query(tree)) == tree, text
