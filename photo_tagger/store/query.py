"""The search language: what the user types in the search box, parsed into query objects.

Terms side by side must all match::

    dog beach               tagged dog and beach
    dog OR cat              either; AND binds tighter, so "a b OR c" means "(a b) OR c"
    dog AND beach           AND may be written out; it changes nothing
    (dog OR cat) beach      parentheses group
    -night    NOT night     not tagged night
    "golden retriever"      a tag with a space in it
    tag:or    tag:"-x"      a tag that would otherwise read as a keyword, a field or a negation
    ~dog                    dog or one of its GloVe neighbours, expanded when the query runs; the result
                            reports the query as run, e.g. "(dog OR puppy OR hound) beach"
    date:2021   date:2021-06   date:2021-06-01       taken in that year, month or day
    date:2020..2021   date:2021-06..   date:..2019   taken in that range, both ends included; one may be open
    folder:/home/me/Pictures/2021   the photo's path starts with this text; quote it if it has spaces or
                                    parentheses; % and _ are plain characters
    source:user   source:tagger,detector             who proposed the tag: tagger, detector, glove or user
    state:suggested   state:accepted,rejected        what the user decided about it

Tag names are compared after :func:`~photo_tagger.store.schema.normalise_tag`, so ``Dog`` finds ``dog``.
Field names are case-insensitive; the keywords ``OR``, ``AND``, ``NOT`` are upper case (``or`` is a tag).
A ``-`` or ``~`` inside a word is part of it (``t-shirt``). A comma in ``source:`` or ``state:`` means
"any of these".

**When does a tag match?** By default when the user accepted it (a user's own tags are accepted), or when a
model suggested it with a score of at least the search threshold (0.3 unless the caller chooses another).
A rejected tag never matches by default.

**source: and state: narrow the tag terms of their group**: the terms joined to them by AND, including
those inside parentheses in that group. An explicit ``state:`` replaces the default rule, threshold and all::

    dog source:user                 dog, added by the user
    dog state:suggested             dog, suggested and not decided yet (at any score)
    dog state:rejected              dog, rejected by the user
    (dog OR cat) source:detector    dog or cat, as found by the detector
    dog OR cat source:detector      dog from any source, or cat as found by the detector

In a group without tag terms they match photos with at least one tag row that passes them::

    state:suggested                 photos with suggestions to review
    state:suggested date:2021       ... taken in 2021

A negated filter excludes photos having any such tag row, in whatever group it stands::

    -state:suggested                photos with nothing left to review
    dog -source:glove               dog, on photos without (matching) GloVe tags

Two filters of the same kind in one group must both hold, so ``source:user source:glove`` matches nothing.
The empty query matches every photo. Any other string either parses or raises :class:`QueryError` with the
0-based position of the problem and a message that says how to fix it.

:func:`parse_query` returns the tree as typed (with :class:`Filter` and :class:`Expand` nodes);
:func:`resolve` applies the scoping rules above, after expansion, and returns the tree the compiler runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from .schema import TagSource, TagState, normalise_tag

FIELDS = ("tag", "source", "state", "folder", "date")
KEYWORDS = frozenset({"OR", "AND", "NOT"})
FILTER_VALUES = {
    "source": frozenset(source.value for source in TagSource),
    "state": frozenset(state.value for state in TagState),
}
_EXAMPLES = {
    "tag": 'tag:"golden retriever"',
    "source": "source:user",
    "state": "state:suggested",
    "folder": "folder:/home/me/Pictures",
    "date": "date:2021-06",
}
MAX_LENGTH = 1000
MAX_TERMS = 50
MAX_DEPTH = 20


class QueryError(ValueError):
    """A search string that cannot be run; ``position`` is the 0-based index of the problem in ``query``."""

    def __init__(self, message: str, position: int, query: str = "") -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position
        self.query = query

    def pointer(self) -> str:
        """The query with a caret under the problem, for a terminal."""
        return f"{self.query}\n{' ' * self.position}^"


# -- query objects -------------------------------------------------------------------------------------------
# Positions do not take part in equality, so tests can compare trees.


@dataclass(frozen=True)
class TagTerm:
    """Photos with tag ``name``; ``sources``/``states`` (set by :func:`resolve`) narrow which rows count."""

    name: str
    pos: int = field(default=0, compare=False)
    sources: frozenset[str] | None = None
    states: frozenset[str] | None = None


@dataclass(frozen=True)
class Expand:
    """``~word``: ``word`` or a GloVe neighbour of it; replaced by an :class:`Or` of tags before running."""

    word: str
    pos: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Filter:
    """``source:...`` or ``state:...`` as typed; :func:`resolve` narrows terms with it or makes a HasTag."""

    field: str  # "source" | "state"
    values: frozenset[str]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class HasTag:
    """Photos with a tag row from ``sources`` in ``states`` (None: any source / the default rule)."""

    sources: frozenset[str] | None = None
    states: frozenset[str] | None = None


@dataclass(frozen=True)
class DateRange:
    """Photos taken in [start, end); either end may be open. ``text`` is the value as typed."""

    start: date | None
    end: date | None
    text: str = field(default="", compare=False)
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class FolderPrefix:
    prefix: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    child: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class MatchAll:
    """The empty query."""


Node = TagTerm | Expand | Filter | HasTag | DateRange | FolderPrefix | Not | And | Or | MatchAll


# -- lexer ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" ")" "-" "OR" "AND" "NOT" "term" "end"
    pos: int
    node: Node | None = None


_WORD_END = re.compile(r'[\s()"]')
_PERIOD = re.compile(r"([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?")


def _word(text: str, start: int) -> tuple[str, int]:
    match = _WORD_END.search(text, start)
    end = match.start() if match else len(text)
    return text[start:end], end


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The text between the quote at ``start`` and the next one; the index after the closing quote."""
    close = text.find('"', start + 1)
    if close < 0:
        raise QueryError('this quote is never closed; add a closing "', start, text)
    return text[start + 1 : close], close + 1


def _tokens(text: str) -> Iterator[_Token]:
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char in "()":
            yield _Token(char, i)
            i += 1
            continue
        if char == "-":
            following = text[i + 1 : i + 2]
            if not following or following.isspace() or following == ")":
                raise QueryError("'-' must be followed directly by what to leave out, as in -night", i, text)
            yield _Token("-", i)
            i += 1
            continue
        start = i
        if char == "~":
            if text[i + 1 : i + 2] == '"':
                value, i = _quoted(text, i + 1)
            else:
                value, i = _word(text, i + 1)
                if ":" in value:
                    raise QueryError("'~' expands a plain word, as in ~dog, not a field", start, text)
            name = normalise_tag(value)
            if not name:
                raise QueryError("'~' must be followed directly by a word to expand, as in ~dog", start, text)
            node: Node = Expand(name, start, i)
        elif char == '"':
            value, i = _quoted(text, i)
            node = _tag(value, start, text)
        else:
            word, i = _word(text, i)
            if word in KEYWORDS:
                yield _Token(word, start)
                continue
            name, colon, value = word.partition(":")
            if colon:
                key = name.lower()
                if key not in FIELDS:
                    raise QueryError(
                        f"unknown field '{name}:'; the fields are tag:, source:, state:, folder: and date: "
                        "(put a tag that contains ':' in quotes)",
                        start,
                        text,
                    )
                value_pos = start + len(name) + 1
                if not value and text[i : i + 1] == '"':
                    value, i = _quoted(text, i)
                node = _field(key, value, start, value_pos, text)
            else:
                node = _tag(word, start, text)
        if i < n and not (text[i].isspace() or text[i] in "()"):
            raise QueryError("put a space between two terms", i, text)
        yield _Token("term", start, node)
    yield _Token("end", n)


def _tag(value: str, pos: int, text: str) -> TagTerm:
    name = normalise_tag(value)
    if not name:
        raise QueryError("empty tag: put a tag name between the quotes", pos, text)
    return TagTerm(name, pos)


def _field(key: str, value: str, pos: int, value_pos: int, text: str) -> Node:
    if not value.strip():
        raise QueryError(f"'{key}:' needs a value, as in {_EXAMPLES[key]}", pos, text)
    if key == "tag":
        return _tag(value, pos, text)
    if key == "folder":
        return FolderPrefix(value, pos)
    if key == "date":
        return _date_range(value, pos, value_pos, text)
    allowed = FILTER_VALUES[key]
    values = []
    offset = value_pos
    for part in value.split(","):
        item = part.strip().lower()
        if item not in allowed:
            raise QueryError(f"unknown {key} '{part.strip()}': use {', '.join(sorted(allowed))}", offset, text)
        values.append(item)
        offset += len(part) + 1
    return Filter(key, frozenset(values), pos)


def _date_range(value: str, pos: int, value_pos: int, text: str) -> DateRange:
    if ".." not in value:
        start, end = _period(value, value_pos, text)
        return DateRange(start, end, value, pos)
    left, _, right = value.partition("..")
    if not left and not right:
        raise QueryError("a date range needs at least one end, as in date:2020..2021", value_pos, text)
    start = _period(left, value_pos, text)[0] if left else None
    end = _period(right, value_pos + len(left) + 2, text)[1] if right else None
    if start is not None and end is not None and start >= end:
        raise QueryError(f"the range {value} ends before it starts", value_pos, text)
    return DateRange(start, end, value, pos)


def _period(value: str, pos: int, text: str) -> tuple[date, date | None]:
    """The first day of a year, month or day, and the first day after it (None past the year 9999)."""
    match = _PERIOD.fullmatch(value)
    if match is None:
        raise QueryError(f"'{value}' is not a date: write YYYY, YYYY-MM or YYYY-MM-DD", pos, text)
    year_text, month_text, day_text = match.groups()
    year = int(year_text)
    if year < 1:
        raise QueryError("there is no year 0000", pos, text)
    if month_text is None:
        return date(year, 1, 1), _safe_date(year + 1, 1, 1)
    month = int(month_text)
    if not 1 <= month <= 12:
        raise QueryError(f"there is no month {month_text}: months go from 01 to 12", pos + 5, text)
    if day_text is None:
        return date(year, month, 1), _safe_date(year + month // 12, month % 12 + 1, 1)
    try:
        day = date(year, month, int(day_text))
    except ValueError:
        raise QueryError(f"{value} is not a day of the calendar", pos + 6 + len(month_text), text) from None
    return day, day + timedelta(days=1) if day < date.max else None


def _safe_date(year: int, month: int, day: int) -> date | None:
    return date(year, month, day) if year <= date.max.year else None


# -- parser --------------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = list(_tokens(text))
        self.index = 0
        self.depth = 0
        self.terms = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, position: int) -> QueryError:
        return QueryError(message, position, self.text)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            return MatchAll()
        node = self.parse_or()
        token = self.peek()
        if token.kind == ")":
            raise self.error("')' has no matching '('", token.pos)
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.peek().kind == "OR":
            token = self.take()
            if self.peek().kind in ("end", ")", "OR"):
                raise self.error("OR needs a term after it", token.pos)
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children: list[Node] = []
        while (token := self.peek()).kind not in ("end", ")", "OR"):
            if token.kind == "AND":
                self.take()
                if not children:
                    raise self.error("AND needs a term before it", token.pos)
                if self.peek().kind in ("end", ")", "OR", "AND"):
                    raise self.error("AND needs a term after it", token.pos)
                continue
            children.append(self.parse_unary())
        if not children:
            if token.kind == "OR":
                raise self.error("OR needs a term before it", token.pos)
            raise self.error("')' has no matching '('", token.pos)
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        token = self.take()
        if token.kind in ("-", "NOT"):
            if self.peek().kind in ("end", ")", "OR", "AND"):
                what = "NOT" if token.kind == "NOT" else "'-'"
                raise self.error(f"{what} must be followed by what to leave out, as in {what} night", token.pos)
            self.enter(token)
            child = self.parse_unary()
            self.depth -= 1
            return Not(child, token.pos)
        if token.kind == "(":
            self.enter(token)
            if self.peek().kind == ")":
                raise self.error("empty parentheses: put terms between them", token.pos)
            node = self.parse_or()
            if self.peek().kind != ")":
                raise self.error("this '(' is never closed; add a ')'", token.pos)
            self.take()
            self.depth -= 1
            return node
        if token.kind == "term" and token.node is not None:
            self.terms += 1
            if self.terms > MAX_TERMS:
                raise self.error(f"too many terms: a query may have at most {MAX_TERMS}", token.pos)
            return token.node
        raise self.error(f"unexpected {token.kind!r}", token.pos)  # unreachable: callers stop at the others

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nested too deeply: at most {MAX_DEPTH} levels of parentheses and NOT", token.pos)


def parse_query(text: str) -> Node:
    """Parse a search string into query objects; :class:`QueryError` for anything that is not a valid query.

    ``dog OR cat -night`` gives ``Or(TagTerm("dog"), And(TagTerm("cat"), Not(TagTerm("night"))))``: AND
    binds tighter than OR.
    """
    if not isinstance(text, str):
        raise TypeError(f"a query is a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise QueryError(f"the query is too long: at most {MAX_LENGTH} characters", MAX_LENGTH, text[:MAX_LENGTH])
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, e.g. from a broken paste; SQLite would refuse it
        raise QueryError("the query contains an invalid character", error.start, text) from None
    return _Parser(text).parse()


# -- scoping -------------------------------------------------------------------------------------------------


def resolve(node: Node) -> Node:
    """Apply the scoping rules of the module docstring; no :class:`Filter` or :class:`Expand` is left.

    Worked example: ``(dog OR cat) source:detector -state:rejected`` becomes
    ``And(Or(dog[detector], cat[detector]), Not(HasTag(states={rejected})))``.
    """
    return _resolve(node, None, None)


def _narrow(
    sources: frozenset[str] | None, states: frozenset[str] | None, filters: list[Filter]
) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    for item in filters:
        if item.field == "source":
            sources = item.values if sources is None else sources & item.values
        else:
            states = item.values if states is None else states & item.values
    return sources, states


def _has_tag_terms(node: Node) -> bool:
    if isinstance(node, TagTerm | Expand):
        return True
    if isinstance(node, Not):
        return _has_tag_terms(node.child)
    if isinstance(node, And | Or):
        return any(_has_tag_terms(child) for child in node.children)
    return False


def _is_negated_filter(node: Node) -> bool:
    return isinstance(node, Not) and isinstance(node.child, Filter)


def _resolve(node: Node, sources: frozenset[str] | None, states: frozenset[str] | None) -> Node:
    if isinstance(node, TagTerm):
        return replace(node, sources=sources, states=states)
    if isinstance(node, Expand):
        raise ValueError("expand ~terms before resolving the query")
    if isinstance(node, Filter):  # a group of one filter
        return HasTag(*_narrow(sources, states, [node]))
    if _is_negated_filter(node):
        return Not(HasTag(*_narrow(None, None, [node.child])), node.pos)  # type: ignore[union-attr]
    if isinstance(node, Not):
        return Not(_resolve(node.child, sources, states), node.pos)
    if isinstance(node, Or):
        return Or(tuple(_resolve(child, sources, states) for child in node.children))
    if not isinstance(node, And):
        return node
    filters = [child for child in node.children if isinstance(child, Filter)]
    negated = [child for child in node.children if _is_negated_filter(child)]
    rest = [child for child in node.children if not isinstance(child, Filter) and not _is_negated_filter(child)]
    sources, states = _narrow(sources, states, filters)
    children: list[Node] = []
    if filters and not any(_has_tag_terms(child) for child in rest):
        children.append(HasTag(sources, states))
    children.extend(_resolve(child, sources, states) for child in rest)
    children.extend(_resolve(child, None, None) for child in negated)
    return conjunction(children)


def conjunction(children: list[Node]) -> Node:
    """And of ``children`` with nested Ands flattened (safe once scopes are resolved)."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, And) else [child])
    if not flat:
        return MatchAll()
    return flat[0] if len(flat) == 1 else And(tuple(flat))


# -- formatting ----------------------------------------------------------------------------------------------

_PLAIN = re.compile(r'[^\s()"~:-][^\s()":]*')
_PLAIN_VALUE = re.compile(r'[^\s()"]+')


def quote(name: str) -> str:
    """A tag name as a query term: bare when it reads back as the same tag, else in quotes."""
    if _PLAIN.fullmatch(name) and name not in KEYWORDS:
        return name
    return f'"{name}"'


def format_query(node: Node) -> str:
    """A query string that parses back to ``node`` (for trees from :func:`parse_query`)."""
    if isinstance(node, TagTerm):
        return quote(node.name)
    if isinstance(node, Expand):
        return "~" + quote(node.word)
    if isinstance(node, Filter):
        return f"{node.field}:{','.join(sorted(node.values))}"
    if isinstance(node, DateRange):
        return f"date:{node.text}"
    if isinstance(node, FolderPrefix):
        plain = _PLAIN_VALUE.fullmatch(node.prefix)
        return f"folder:{node.prefix}" if plain else f'folder:"{node.prefix}"'
    if isinstance(node, Not):
        inner = format_query(node.child)
        return f"-({inner})" if isinstance(node.child, And | Or) else f"-{inner}"
    if isinstance(node, And):
        # A nested And keeps its parentheses: they delimit the group a source:/state: filter narrows.
        return " ".join(f"({format_query(c)})" if isinstance(c, And | Or) else format_query(c) for c in node.children)
    if isinstance(node, Or):
        return " OR ".join(f"({format_query(c)})" if isinstance(c, Or) else format_query(c) for c in node.children)
    if isinstance(node, HasTag):
        parts = []
        if node.sources is not None:
            parts.append("source:" + ",".join(sorted(node.sources)))
        if node.states is not None:
            parts.append("state:" + ",".join(sorted(node.states)))
        return "(" + " ".join(parts) + ")"
    return ""
