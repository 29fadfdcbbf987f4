"""Run a search: query objects -> SQL (SQLAlchemy Core, bound parameters only) -> a page of ranked photos.

SQLite runs nested-loop joins only and, without STAT4 statistics, cannot know that ``dog`` is on 25,000 photos
and ``lighthouse`` on 140, so the compiler plans the top-level AND itself, on the layout of
:class:`~photo_tagger.store.schema.PhotoTag` (``id = tag_id * 2**32 + photo_id``, the rowid):

1. Tag names become ids (cached; an unknown tag matches nothing, and ``-unknown`` everything).
2. The *lead* is the term with the fewest rows, by per-tag counts cached in :class:`SearchCache` (a stale count
   costs speed, never correctness). A tag lists its rows as one rowid range, in photo order; ``date:`` and
   ``folder:`` use the photos indexes; ``a OR b`` of tags sums its tags' ranges per photo.
3. Every other positive tag joins by rowid (``id = tag_id * 2**32 + photo_id``: one lookup that both filters
   and scores), rarest first; a group ``(a OR b)`` left-joins each tag; the rest (negations, dates, folders,
   ``source:``/``state:`` groups) are ``EXISTS`` / ``NOT EXISTS`` probes on the last join's photo id, so SQLite
   tests them only on rows that got that far.
4. A photo's score is the sum of the effective scores (accepted: 1.0, suggested: its score; see
   ``photo_tags.match_score``) of the positive tag terms it matched, anywhere in the query. Ties go to the
   newer photo (higher id).
5. The matches are materialised once: the total counts them, a bounded top-N sort picks the page, and only the
   page's photos are joined for their paths.

Two shapes skip all that: a lone tag reads its page in rank order straight off ``ix_photo_tags_rank`` and
counts the same range, and the empty query pages through photos by id.

So ``dog beach -night`` reads the ``beach`` range, looks ``dog`` up for each of those photos and ``night`` for
each that has a dog, and sorts the survivors: its cost follows the rarest positive term, not the library's size.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .decisions import tag_ids
from .query import (
    And,
    DateRange,
    Expand,
    FolderPrefix,
    HasTag,
    MatchAll,
    Node,
    Not,
    Or,
    QueryError,
    TagTerm,
    format_query,
    parse_query,
    resolve,
)
from .schema import TAG_KEY_SPAN, Photo, PhotoTag, normalise_tag

log = logging.getLogger(__name__)

DEFAULT_MIN_SCORE = 0.3
DEFAULT_LIMIT = 50
MAX_LIMIT = 10_000
MAX_NEIGHBOURS = 10  # of one ~word

Expander = Callable[[str], Iterable[str]]

# Lightweight views of the two tables the search reads. A search builds a dozen aliases, and aliasing the full
# ORM tables (every column a schema object, with events) cost more than running the SQL of a small query.
_tags = sa.table(
    PhotoTag.__tablename__,
    *(
        sa.column(c.name, c.type)
        for c in PhotoTag.__table__.c
        if c.name in ("id", "photo_id", "tag_id", "source", "score", "state", "match_score")
    ),
)
_photos = sa.table(
    Photo.__tablename__,
    *(sa.column(c.name, c.type) for c in Photo.__table__.c if c.name in ("id", "path", "date_taken")),
)


@dataclass(frozen=True)
class SearchHit:
    photo_id: int
    path: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    """One page of results; ``total`` counts every match; ``query`` is the query as run (~words expanded)."""

    hits: list[SearchHit]
    total: int
    query: str
    offset: int
    limit: int


class SearchCache:
    """What a store remembers between searches; shared across threads.

    - Row counts that decide which term drives a search, kept for ``ttl_s`` seconds. Counting a tag's rows costs
      about as much as reading them, and a count that is off after a big scan only makes a plan slower.
    - Tag ids by name. A tag row is never renamed or deleted, so a name's id, once seen, stays right.
    """

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 20_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._counts: dict[Hashable, tuple[float, int]] = {}
        self._tag_ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def count(self, session: Session, key: Hashable, query: Callable[[], sa.Select]) -> int:
        """The cached count for ``key``, else run ``query()`` (a count select) and cache its result."""
        now = time.monotonic()
        with self._lock:
            cached = self._counts.get(key)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        value = int(session.execute(query()).scalar_one())
        with self._lock:
            if len(self._counts) >= self.max_entries:
                self._counts.clear()
            self._counts[key] = (now, value)
        return value

    def tag_ids(self, session: Session, names: set[str]) -> dict[str, int]:
        """Ids of the names that are tags; names not (yet) in the library are looked up again next time."""
        with self._lock:
            known = {name: self._tag_ids[name] for name in names if name in self._tag_ids}
        missing = names - known.keys()
        if missing:
            found = tag_ids(session, missing, create=False)
            with self._lock:
                if len(self._tag_ids) >= self.max_entries:
                    self._tag_ids.clear()
                self._tag_ids.update(found)
            known.update(found)
        return known

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._tag_ids.clear()


def expand_query(node: Node, text: str, expand: Expander | None) -> tuple[Node, str]:
    """Replace each ``~word`` by ``(word OR neighbour ...)``; return the new tree and the query as run."""
    replacements: list[tuple[int, int, str]] = []

    def walk(item: Node) -> Node:
        if isinstance(item, Expand):
            if expand is None:
                raise QueryError(f"~{item.word} needs GloVe word vectors, which are not loaded", item.pos, text)
            try:
                neighbours = [normalise_tag(w) for w in expand(item.word) if isinstance(w, str)]
            except Exception as error:  # the expander is the engine's code; the user still gets a QueryError
                log.warning("expanding ~%s failed", item.word, exc_info=True)
                raise QueryError(f"could not expand ~{item.word}: {error}", item.pos, text) from error
            names = list(dict.fromkeys([item.word, *(n for n in neighbours if n)]))[: 1 + MAX_NEIGHBOURS]
            expanded: Node = (
                Or(tuple(TagTerm(name, item.pos) for name in names))
                if len(names) > 1
                else (TagTerm(item.word, item.pos))
            )
            replacements.append((item.pos, item.end, f"({format_query(expanded)})" if len(names) > 1 else names[0]))
            return expanded
        if isinstance(item, Not):
            return Not(walk(item.child), item.pos)
        if isinstance(item, And | Or):
            return type(item)(tuple(walk(child) for child in item.children))
        return item

    result = walk(node)
    for start, end, replacement in sorted(replacements, reverse=True):
        text = text[:start] + replacement + text[end:]
    return result, text


TermKey = tuple[str, frozenset[str] | None, frozenset[str] | None]


@dataclass(frozen=True)
class _Driver:
    select: sa.Select  # columns photo_id, driver_score
    scored: frozenset[TermKey] = frozenset()  # the terms whose scores driver_score already sums


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _term_key(term: TagTerm) -> TermKey:
    return term.name, term.sources, term.states


def _is_tag_or(node: Node) -> bool:
    """``a OR b OR c`` of plain tags, as ``~word`` expands to."""
    return isinstance(node, Or) and all(isinstance(child, TagTerm) for child in node.children)


def _is_ranked_term(node: Node) -> bool:
    """A lone tag under the default rule: its first page comes straight off ``ix_photo_tags_rank``."""
    return isinstance(node, TagTerm) and node.sources is None and node.states is None


class _Compiler:
    def __init__(self, session: Session, cache: SearchCache, min_score: float, ids: dict[str, int]) -> None:
        self.session = session
        self.cache = cache
        self.min_score = min_score
        self.ids = ids

    # -- photo_tags rows -------------------------------------------------------------------------------------

    def row_matches(
        self, rows: sa.FromClause, sources: frozenset[str] | None, states: frozenset[str] | None
    ) -> sa.ColumnElement[bool]:
        # The default rule (accepted, or suggested at >= min_score; never rejected) is one compare on the
        # generated match_score column, which is NULL for rejected rows.
        condition = rows.c.match_score >= self.min_score if states is None else rows.c.state.in_(sorted(states))
        if sources is not None:
            condition = sa.and_(condition, rows.c.source.in_(sorted(sources)))
        return condition

    @staticmethod
    def row_score(rows: sa.FromClause, term: TagTerm) -> sa.ColumnElement[float]:
        # Under an explicit state: a rejected row ranks by the score its model gave it.
        if term.states is None:
            return rows.c.match_score
        return sa.func.coalesce(rows.c.match_score, rows.c.score)

    def base(self, term: TagTerm) -> int:
        """``photo_tags.id`` of (photo 0, this tag): the tag's rows are ids base+1 .. base+2**32-1."""
        return self.ids[term.name] * TAG_KEY_SPAN

    def estimate(self, term: TagTerm) -> int:
        if term.name not in self.ids:
            return 0
        tag_id = self.ids[term.name]
        return self.cache.count(
            self.session, ("tag", tag_id), lambda: sa.select(sa.func.count()).where(_tags.c.tag_id == tag_id)
        )

    # -- photo-level conditions ------------------------------------------------------------------------------

    @staticmethod
    def photo_condition(node: DateRange | FolderPrefix, photos: sa.FromClause) -> sa.ColumnElement[bool]:
        if isinstance(node, DateRange):
            taken = photos.c.date_taken
            parts = [taken.is_not(None)]  # so that -date:2021 keeps undated photos
            if node.start is not None:
                parts.append(taken >= _midnight(node.start))
            if node.end is not None:
                parts.append(taken < _midnight(node.end))
            return sa.and_(*parts)
        # A string range on the unique path index, not LIKE: LIKE ignores case in SQLite and needs % and _
        # escaped. Under SQLite's binary collation (code-point order) the range holds exactly the strings with
        # the prefix. A server database must compare paths with a binary ("C") collation for this to hold.
        return sa.and_(photos.c.path >= node.prefix, photos.c.path < node.prefix + "\U0010ffff")

    # -- predicates on a photo id column ---------------------------------------------------------------------

    def predicate(self, node: Node, photo_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        if isinstance(node, TagTerm):
            if node.name not in self.ids:
                return sa.false()
            rows = _tags.alias()
            # A rowid lookup: photo_tags.id = tag_id * 2**32 + photo_id.
            return sa.exists().where(
                rows.c.id == photo_id + self.base(node), self.row_matches(rows, node.sources, node.states)
            )
        if isinstance(node, HasTag):
            rows = _tags.alias()
            return sa.exists().where(rows.c.photo_id == photo_id, self.row_matches(rows, node.sources, node.states))
        if isinstance(node, DateRange | FolderPrefix):
            photos = _photos.alias()
            return sa.exists().where(photos.c.id == photo_id, self.photo_condition(node, photos))
        if isinstance(node, Not):
            return sa.not_(self.predicate(node.child, photo_id))
        if isinstance(node, And):
            children = sorted(node.children, key=self.probe_order)
            return sa.and_(*(self.predicate(child, photo_id) for child in children))
        if isinstance(node, Or):
            return sa.or_(*(self.predicate(child, photo_id) for child in node.children))
        if isinstance(node, MatchAll):
            return sa.true()
        raise TypeError(f"cannot compile {node!r}")

    def probe_order(self, node: Node) -> tuple[int, int]:
        """SQLite tests AND terms in order: the rarest tag first, so later probes see fewer candidates."""
        if isinstance(node, TagTerm):
            return 0, self.estimate(node)
        if isinstance(node, DateRange | FolderPrefix):
            return 1, 0
        if isinstance(node, Not):
            return 3, 0
        return 2, 0

    # -- drivers ---------------------------------------------------------------------------------------------

    def driver_estimate(self, node: Node) -> int | None:
        """How many rows a driver for ``node`` would list; None where only a scan of all photos lists them."""
        if isinstance(node, TagTerm):
            return self.estimate(node)
        if isinstance(node, DateRange | FolderPrefix):
            key = ("date", node.start, node.end) if isinstance(node, DateRange) else ("folder", node.prefix)
            return self.cache.count(
                self.session, key, lambda: sa.select(sa.func.count()).where(self.photo_condition(node, _photos))
            )
        if isinstance(node, Or | And):
            parts = [self.driver_estimate(child) for child in node.children]
            known = [part for part in parts if part is not None]
            if isinstance(node, Or):
                return None if len(known) < len(parts) else sum(known)
            return min(known) if known else None
        return None  # Not, HasTag, MatchAll

    def driver(self, node: Node) -> _Driver:
        """A select (photo_id, driver_score) listing exactly the photos that match a drivable ``node``."""
        if isinstance(node, TagTerm):
            rows = _tags.alias()
            if node.name not in self.ids:
                select = sa.select(rows.c.photo_id, sa.literal(0.0).label("driver_score")).where(sa.false())
                return _Driver(select)
            base = self.base(node)
            # The tag's rowid range: rows in photo order, so the probes that follow walk the other tags' ranges
            # forwards too and find their pages already cached (reading the rank index instead, in score
            # order, measured slower for that reason).
            select = sa.select(rows.c.photo_id, self.row_score(rows, node).label("driver_score")).where(
                rows.c.id > base,
                rows.c.id < base + TAG_KEY_SPAN,
                self.row_matches(rows, node.sources, node.states),
            )
            return _Driver(select, frozenset({_term_key(node)}))
        if isinstance(node, DateRange | FolderPrefix):
            condition = self.photo_condition(node, _photos)
            select = sa.select(_photos.c.id.label("photo_id"), sa.literal(0.0).label("driver_score")).where(condition)
            return _Driver(select)
        if _is_tag_or(node):
            # Each tag's rows with their scores, summed per photo: one pass, no probes.
            terms = self.known_terms(node.children)  # type: ignore[arg-type]
            if not terms:
                return self.driver(node.children[0])
            arms = []
            for term in terms:
                rows = _tags.alias()
                base = self.base(term)
                arms.append(
                    sa.select(rows.c.photo_id, self.row_score(rows, term).label("score")).where(
                        rows.c.id > base,
                        rows.c.id < base + TAG_KEY_SPAN,
                        self.row_matches(rows, term.sources, term.states),
                    )
                )
            both = sa.union_all(*arms).subquery()
            select = sa.select(both.c.photo_id, sa.func.sum(both.c.score).label("driver_score")).group_by(
                both.c.photo_id
            )
            return _Driver(select, frozenset(_term_key(term) for term in terms))
        if isinstance(node, Or):
            parts = [self.driver(child) for child in node.children]
            union = sa.union(*(sa.select(part.select.subquery().c.photo_id) for part in parts)).subquery()
            select = sa.select(union.c.photo_id, sa.literal(0.0).label("driver_score"))
            return _Driver(select)
        if isinstance(node, And):
            lead = self.lead(list(node.children))
            assert lead is not None, "driver() is only called for drivable nodes"
            best = self.driver(lead)
            rest = sorted((child for child in node.children if child is not lead), key=self.probe_order)
            inner = best.select.subquery()
            select = sa.select(inner.c.photo_id, inner.c.driver_score).where(
                *(self.predicate(child, inner.c.photo_id) for child in rest)
            )
            return _Driver(select, best.scored)
        raise TypeError(f"{node!r} cannot drive a search")

    def lead(self, children: list[Node]) -> Node | None:
        """The child with the fewest rows to list, among those that can be listed without a full scan."""
        estimates = [
            (estimate, i) for i, child in enumerate(children) if (estimate := self.driver_estimate(child)) is not None
        ]
        return children[min(estimates)[1]] if estimates else None

    # -- the whole query -------------------------------------------------------------------------------------

    def positive_terms(self, node: Node) -> list[TagTerm]:
        if isinstance(node, TagTerm):
            return [node] if node.name in self.ids else []
        if isinstance(node, And | Or):
            return [term for child in node.children for term in self.positive_terms(child)]
        return []  # terms under a Not add nothing to a score

    def candidates(self, node: Node) -> sa.Select:
        """A select of (photo_id, score) for every photo that matches ``node``, in no particular order.

        The top-level AND is planned by hand: its cheapest drivable term lists candidates, its other positive
        tags are inner joins by rowid (one lookup filters and scores), rarest first, and everything else is a
        predicate on the photo id of the last join, so that SQLite tests it only on rows that got that far.
        """
        children = list(node.children) if isinstance(node, And) else [node]
        lead = self.lead(children)
        if lead is not None:
            driver = self.driver(lead)
        else:
            select = sa.select(_photos.c.id.label("photo_id"), sa.literal(0.0).label("driver_score"))
            driver = _Driver(select)
        found = driver.select.subquery("found")
        joined: sa.FromClause = found
        photo_id: sa.ColumnElement[int] = found.c.photo_id
        score: sa.ColumnElement[float] = found.c.driver_score
        where: list[sa.ColumnElement[bool]] = []
        seen = set(driver.scored)
        rest = [child for child in children if child is not lead]
        joins = sorted(
            (child for child in rest if isinstance(child, TagTerm) and child.name in self.ids), key=self.estimate
        )
        for term in joins:
            if _term_key(term) in seen:
                continue
            seen.add(_term_key(term))
            rows = _tags.alias()
            joined = joined.join(rows, rows.c.id == photo_id + self.base(term))
            where.append(self.row_matches(rows, term.sources, term.states))
            score = score + self.row_score(rows, term)
            photo_id = rows.c.photo_id
        groups = [child for child in rest if _is_tag_or(child)]
        for group in groups:  # (a OR b OR c): a left join per tag, scored in the same lookup
            matched = []
            for term in self.known_terms(group.children):  # type: ignore[union-attr]
                rows = _tags.alias()
                on = sa.and_(rows.c.id == photo_id + self.base(term), self.row_matches(rows, term.sources, term.states))
                joined = joined.outerjoin(rows, on)
                matched.append(rows.c.id.is_not(None))
                if _term_key(term) not in seen:
                    seen.add(_term_key(term))
                    score = score + sa.func.coalesce(self.row_score(rows, term), 0.0)
            where.append(sa.or_(*matched) if matched else sa.false())
        joins.extend(groups)
        others = sorted((child for child in rest if child not in joins), key=self.probe_order)
        where.extend(self.predicate(child, photo_id) for child in others)
        for term in self.positive_terms(node):  # positive tags inside ORs: one scoring probe each
            if _term_key(term) in seen:
                continue
            seen.add(_term_key(term))
            rows = _tags.alias()
            probe = (
                sa.select(self.row_score(rows, term))
                .where(rows.c.id == photo_id + self.base(term), self.row_matches(rows, term.sources, term.states))
                .scalar_subquery()
            )
            score = score + sa.func.coalesce(probe, 0.0)
        return sa.select(found.c.photo_id, score.label("score")).select_from(joined).where(*where)

    def known_terms(self, terms: tuple[TagTerm, ...]) -> list[TagTerm]:
        """The terms whose tags exist, each once."""
        unique = {_term_key(term): term for term in terms if term.name in self.ids}
        return list(unique.values())

    def ranked_page(self, term: TagTerm, limit: int, offset: int) -> tuple[sa.Select, sa.Select]:
        """Page (photo_id, score) and count of a lone tag, in rank order off ``ix_photo_tags_rank``: no sort."""
        rows = _tags
        where = (rows.c.tag_id == self.ids[term.name], rows.c.match_score >= self.min_score)
        page = (
            sa.select(rows.c.photo_id, rows.c.match_score.label("score"))
            .where(*where)
            .order_by(rows.c.match_score.desc(), rows.c.id.desc())  # id desc = photo_id desc within a tag
            .limit(limit)
            .offset(offset)
        )
        return page, sa.select(sa.func.count()).where(*where)


def _tag_names(node: Node) -> set[str]:
    if isinstance(node, TagTerm):
        return {node.name}
    if isinstance(node, Not):
        return _tag_names(node.child)
    if isinstance(node, And | Or):
        return set().union(*(_tag_names(child) for child in node.children))
    return set()


@dataclass(frozen=True)
class CompiledSearch:
    """The statements of a search: ``page`` gives (photo_id, path, score[, total]), ``count`` the total."""

    page: sa.Select
    count: sa.Select
    page_has_total: bool


def _with_paths(page: sa.Subquery, *extra: sa.ColumnElement) -> sa.Select:
    return (
        sa.select(page.c.photo_id, _photos.c.path, page.c.score, *extra)
        .join_from(page, _photos, _photos.c.id == page.c.photo_id)
        .order_by(page.c.score.desc(), page.c.photo_id.desc())
    )


def compile_search(
    session: Session,
    node: Node,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    min_score: float = DEFAULT_MIN_SCORE,
    cache: SearchCache | None = None,
) -> CompiledSearch:
    """SQL for a resolved tree (see :func:`~photo_tagger.store.query.resolve`); tag ids are looked up here.

    The matches are materialised once (a CTE): the total counts them, the page sorts them (a bounded top-N
    sort) and only the page's photos are joined for their paths. Measured faster than ``count(*) OVER ()``.
    """
    cache = cache or SearchCache()
    ids = cache.tag_ids(session, _tag_names(node))
    compiler = _Compiler(session, cache, min_score, ids)
    if _is_ranked_term(node) and node.name in ids:  # type: ignore[union-attr]
        page, count = compiler.ranked_page(node, limit, offset)  # type: ignore[arg-type]
        return CompiledSearch(_with_paths(page.subquery("page")), count, page_has_total=False)
    if isinstance(node, MatchAll):  # browsing: every photo, newest first, in rowid order
        page = sa.select(_photos.c.id.label("photo_id"), sa.literal(0.0).label("score"))
        page = page.order_by(_photos.c.id.desc()).limit(limit).offset(offset)
        return CompiledSearch(
            _with_paths(page.subquery("page")), sa.select(sa.func.count()).select_from(_photos), False
        )
    found = compiler.candidates(node).cte("found").prefix_with("MATERIALIZED")
    page = (
        sa.select(found.c.photo_id, found.c.score)
        .order_by(found.c.score.desc(), found.c.photo_id.desc())
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    total = sa.select(sa.func.count()).select_from(found).scalar_subquery()
    count = sa.select(sa.func.count()).select_from(found)
    return CompiledSearch(_with_paths(page, total.label("total")), count, page_has_total=True)


def search(
    session: Session,
    query: str,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    min_score: float = DEFAULT_MIN_SCORE,
    expand: Expander | None = None,
    cache: SearchCache | None = None,
) -> SearchResult:
    """Photos matching ``query`` (see :mod:`photo_tagger.store.query`), best first, one page at a time.

    ``expand(word)`` returns GloVe neighbours for ``~word``. Raises :class:`QueryError` for a query it
    cannot run, ``ValueError`` for a bad ``limit``/``offset``/``min_score`` (those come from code, not from
    the user).
    """
    if not (isinstance(limit, int) and 0 <= limit <= MAX_LIMIT):
        raise ValueError(f"limit must be an integer from 0 to {MAX_LIMIT}, not {limit!r}")
    if not (isinstance(offset, int) and offset >= 0):
        raise ValueError(f"offset must be a non-negative integer, not {offset!r}")
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score must be in [0, 1], not {min_score!r}")
    parsed = parse_query(query)
    expanded, query_as_run = expand_query(parsed, query, expand)
    compiled = compile_search(session, resolve(expanded), limit=limit, offset=offset, min_score=min_score, cache=cache)
    page = session.execute(compiled.page).all()
    # The ranked path counts separately; past the last page there is no row to carry the total.
    total = page[0].total if page and compiled.page_has_total else session.execute(compiled.count).scalar_one()
    hits = [SearchHit(row.photo_id, row.path, float(row.score)) for row in page]
    return SearchResult(hits, int(total), query_as_run, offset, limit)
