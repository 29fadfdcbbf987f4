"""Every query feature on the hand-built LIBRARY (see conftest.py), with exact results and ranking."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from photo_tagger.store import QueryError, SearchResult, Store
from photo_tagger.store.query import parse_query, resolve
from photo_tagger.store.search import compile_search, expand_query


def neighbours(word: str) -> list[str]:
    """A stand-in for GloVe."""
    return {"dog": ["puppy", "Cat"], "sea": ["beach", "ocean"]}.get(word, [])


def run(store: Store, library: dict[str, int], query: str, **options: object) -> list[str]:
    """The names (p1..p8) of the photos found, best first."""
    names = {photo_id: name for name, photo_id in library.items()}
    result = store.search(query, expand=neighbours, **options)
    assert result.total == len(result.hits) or "limit" in options or "offset" in options
    return [names[hit.photo_id] for hit in result.hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # tags, ranked by score: the user's dog on p5 counts 1.0; p3's dog (0.2) is under the threshold;
        # p4's dog was rejected
        ("dog", ["p5", "p1", "p2", "p8"]),
        ("DOG", ["p5", "p1", "p2", "p8"]),
        ("beach", ["p6", "p1", "p5"]),  # p6 accepted: 1.0
        ("dog beach", ["p1", "p5"]),  # 1.7, 1.35
        ("dog AND beach", ["p1", "p5"]),
        ("beach dog", ["p1", "p5"]),
        ("dog -night", ["p5", "p1", "p8"]),
        ("dog NOT night", ["p5", "p1", "p8"]),
        ("dog beach -night", ["p1", "p5"]),
        ("dog -beach -night", ["p8"]),
        ("dog OR cat", ["p5", "p3", "p1", "p2", "p8"]),  # p3 counts cat only: its dog is under the threshold
        ("cat OR dog", ["p5", "p3", "p1", "p2", "p8"]),
        # AND binds tighter: dog OR (cat beach). p1 outranks p5 because its beach (0.8) is a matched positive
        # term too, even though it sits in the other branch.
        ("dog OR cat beach", ["p1", "p5", "p2", "p8"]),
        ("(dog OR cat) beach", ["p1", "p5"]),
        ("(dog OR night) -(beach OR sand)", ["p2", "p8"]),  # p2: dog 0.6 + night 0.7
        ("-dog", ["p7", "p6", "p4", "p3"]),  # no score: newest photo first
        ("NOT dog", ["p7", "p6", "p4", "p3"]),
        ("-dog -beach", ["p7", "p4", "p3"]),
        ('"golden retriever"', ["p4"]),
        ('"Golden   Retriever"', ["p4"]),
        ('tag:"golden retriever"', ["p4"]),
        ("golden retriever", []),  # two tags, neither exists
        ("or", ["p7"]),
        ("tag:or", ["p7"]),
        ("t-shirt", ["p7"]),
        ("zebra", []),
        ("dog zebra", []),
        ("dog OR zebra", ["p5", "p1", "p2", "p8"]),
        ("-zebra", ["p8", "p7", "p6", "p5", "p4", "p3", "p2", "p1"]),
        ("", ["p8", "p7", "p6", "p5", "p4", "p3", "p2", "p1"]),
        # source: and state: narrow the tags of their group...
        ("dog source:user", ["p5"]),
        ("dog source:detector", ["p8"]),  # p4's detector dog was rejected
        ("dog source:tagger,detector", ["p1", "p2", "p8"]),
        ("dog source:user source:tagger", []),
        ("dog state:suggested", ["p1", "p2", "p8", "p3"]),  # every pending dog, p3's 0.2 included
        ("dog state:accepted", ["p5"]),
        ("dog state:rejected", ["p4"]),
        ("beach state:accepted,suggested", ["p6", "p1", "p5"]),
        ("(dog OR cat) source:detector", ["p8"]),
        ("dog OR cat source:detector", ["p5", "p1", "p2", "p8"]),
        ("-dog state:suggested", ["p7", "p6", "p5", "p4"]),
        # ... and alone they ask for photos with such a tag row
        ("state:rejected", ["p4"]),
        ("state:accepted", ["p6", "p5"]),
        ("source:glove", ["p5", "p1"]),  # sand 0.5 on p1, beach 0.35 on p5
        ("-source:glove", ["p8", "p7", "p6", "p4", "p3", "p2"]),
        ("state:suggested", ["p8", "p7", "p5", "p4", "p3", "p2", "p1"]),
        ("-state:suggested", ["p6"]),
        ("state:suggested date:2021", ["p4", "p3"]),
        ("dog -source:glove", ["p2", "p8"]),  # p1 and p5 have GloVe tags
        # dates: whole days, months, years; open and closed ranges; undated photos never match
        ("date:2020", ["p8", "p2", "p1"]),
        ("date:2020-12", ["p2"]),
        ("date:2020-12-31", ["p2"]),  # 23:59 is still that day
        ("date:2021-06-01", ["p3"]),
        ("date:2021-06", ["p4", "p3"]),
        ("date:2020..2021", ["p8", "p4", "p3", "p2", "p1"]),
        ("date:2021-06..", ["p7", "p4", "p3"]),
        ("date:..2019", ["p6"]),
        ("date:2019..2019", ["p6"]),
        ("-date:2020", ["p7", "p6", "p5", "p4", "p3"]),  # the undated p5 is not from 2020
        ("dog date:2020", ["p1", "p2", "p8"]),
        ("dog date:2020-07..2020-12", ["p1", "p2"]),
        # folders: a case-sensitive prefix of the path; % and _ are plain characters
        ("folder:/lib/2020", ["p2", "p1"]),
        ("folder:/lib/2020/", ["p2", "p1"]),
        ("folder:/lib/20", ["p5", "p4", "p3", "p2", "p1"]),
        ("folder:/Lib", ["p8"]),
        ('folder:"/lib/100%_"', ["p6"]),
        ("folder:/lib/100%", ["p6"]),
        ("folder:%", []),
        ("folder:_", []),
        ("folder:/lib/2021 dog", ["p5"]),
        ("dog -folder:/lib", ["p8"]),
        # GloVe expansion: dog -> dog OR puppy OR cat
        ("~dog", ["p5", "p3", "p1", "p2", "p8"]),
        ("~dog beach", ["p1", "p5"]),
        ("~sea", ["p6", "p1", "p5"]),  # sea is no tag, its neighbour beach is
        ("~unknownword", []),
        ("-~dog", ["p7", "p6", "p4"]),
    ],
)
def test_query(store: Store, library: dict[str, int], query: str, expected: list[str]) -> None:
    assert run(store, library, query) == expected


def test_scores_are_sums_of_the_matched_positive_terms(store: Store, library: dict[str, int]) -> None:
    result = store.search("(dog OR night) beach -cat")
    assert [(hit.photo_id, round(hit.score, 6)) for hit in result.hits] == [
        (library["p1"], round(0.9 + 0.8, 6)),
        (library["p5"], round(1.0 + 0.35, 6)),
    ]
    assert result.hits[0].path == "/lib/2020/beach_dog.jpg"
    assert [round(hit.score, 6) for hit in store.search("dog").hits] == [1.0, 0.9, 0.6, 0.31]
    assert [round(hit.score, 6) for hit in store.search("dog state:suggested").hits] == [0.9, 0.6, 0.31, 0.2]


def test_threshold(store: Store, library: dict[str, int]) -> None:
    assert run(store, library, "dog", min_score=0.5) == ["p5", "p1", "p2"]
    assert run(store, library, "dog", min_score=0.0) == ["p5", "p1", "p2", "p8", "p3"]  # rejected p4: never
    assert run(store, library, "dog beach", min_score=0.4) == ["p1"]
    assert run(store, library, "dog OR cat", min_score=0.0) == ["p3", "p5", "p1", "p2", "p8"]  # p3: 0.95 + 0.2
    assert run(store, library, "dog", min_score=1.0) == ["p5"]
    with pytest.raises(ValueError):
        store.search("dog", min_score=1.5)


def test_paging_and_total(store: Store, library: dict[str, int]) -> None:
    names = {photo_id: name for name, photo_id in library.items()}
    for query, everything in (("dog", ["p5", "p1", "p2", "p8"]), ("dog -beach OR cat", ["p3", "p2", "p8"])):
        pages = []
        for offset in range(0, 6, 2):
            result = store.search(query, limit=2, offset=offset)
            assert (result.total, result.limit, result.offset) == (len(everything), 2, offset)
            pages.extend(names[hit.photo_id] for hit in result.hits)
        assert pages == everything
        empty = store.search(query, limit=0)
        assert (empty.hits, empty.total) == ([], len(everything))
    with pytest.raises(ValueError):
        store.search("dog", limit=-1)
    with pytest.raises(ValueError):
        store.search("dog", offset=-5)


def test_expansion_is_reported_back(store: Store, library: dict[str, int]) -> None:
    assert store.search("~dog beach", expand=neighbours).query == "(dog OR puppy OR cat) beach"
    assert store.search("-~dog", expand=neighbours).query == "-(dog OR puppy OR cat)"
    assert store.search('~"Sea"', expand=neighbours).query == "(sea OR beach OR ocean)"
    assert store.search("~unknownword", expand=neighbours).query == "unknownword"
    assert store.search("dog  beach", expand=neighbours).query == "dog  beach"  # untouched without ~
    many = store.search("~x", expand=lambda word: [f"n{i}" for i in range(50)])
    assert many.query.count(" OR ") == 10  # at most ten neighbours


def test_expansion_needs_an_expander_that_works(store: Store, library: dict[str, int]) -> None:
    with pytest.raises(QueryError, match="needs GloVe") as caught:
        store.search("beach ~dog")
    assert caught.value.position == 6

    def broken(word: str) -> list[str]:
        raise RuntimeError("vectors not loaded")

    with pytest.raises(QueryError, match="could not expand ~dog: vectors not loaded"):
        store.search("~dog", expand=broken)


HOSTILE = [
    '"dog', 'dog"', "(dog", "dog)", "((dog)", ")(", "()", "'; DROP TABLE photos; --", '"; DROP TABLE photos; --',
    "dog'; DELETE FROM photo_tags WHERE '1'='1", "%", "_", "%dog%", "d_g", "\\", "dog\\", "'", "''", ";",
    "dóg ñandú 犬 🐕", "\u200b", "\u202edog", "\x00", "dog\x00cat", "\ud800", "a" * 5000, "dog " * 200, "-", "- dog",
    "--dog", "OR", "OR OR", "dog OR", "OR dog", "AND", "AND AND", "NOT", "NOT NOT", "dog NOT", "", "   ",
    "date:2021-13", "date:2021-02-30", "date:21", "date:2021..2020", "date:..", "date:", "date:0000", "date:9999",
    "date:9999-12-31", "date:9999-12", "source:bogus", "source:", "source:user,", "state:bogus", "state:",
    "state:accepted,bogus", "tag:", 'tag:""', '""', "foo:bar", ":", "::", "~", "~~dog", "~tag:x", '~""', "folder:",
    'folder:"', 'folder:""', "folder:\x00", "folder:'", "(" * 25 + "dog" + ")" * 25, "-" * 50 + "dog",
    "NOT " * 30 + "dog", 'dog"cat', "tag:dog\"", "dog ) OR (cat", "~dog ~dog ~dog", "SELECT * FROM photos",
    "1=1 OR 1=1", "tag:%", "dog -dog", "dog OR -dog", "-(-(-(dog)))", "source:user -source:user",
]  # fmt: skip


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_give_results_or_a_query_error(store: Store, library: dict[str, int], query: str) -> None:
    try:
        result = store.search(query, expand=neighbours)
    except QueryError as error:
        assert error.message
        assert 0 <= error.position <= len(query)
    else:
        assert isinstance(result, SearchResult) and result.total >= len(result.hits)
    with store.read() as session:  # and the library is as it was
        assert session.execute(sa.text("SELECT count(*) FROM photos")).scalar() == 8
        assert session.execute(sa.text("SELECT count(*) FROM photo_tags")).scalar() == 15


def test_random_queries_give_results_or_a_query_error(store: Store, library: dict[str, int]) -> None:
    fragments = ["dog", "cat", "beach", "night", "zebra", " ", " ", " ", "(", ")", '"', "-", "~", "OR", "AND", "NOT",
                 "tag:", "date:2020", "..", "date:2021-06", "source:user", "state:suggested", "state:rejected",
                 "folder:/lib", "source:glove,tagger", "%", "_", "é"]  # fmt: skip
    rng = random.Random(99)
    ran = 0
    for _ in range(400):
        query = "".join(rng.choice(fragments) for _ in range(rng.randint(1, 10)))
        try:
            result = store.search(query, expand=neighbours, limit=3)
        except QueryError:
            continue
        ran += 1
        assert result.total >= len(result.hits)
    assert ran > 50


TYPICAL = ["dog", "dog beach", "dog beach -night", "cat OR dog", "~dog beach", "date:2020", "folder:/lib/2020",
           "dog date:2020", "dog state:suggested", "(dog OR cat) beach -night"]  # fmt: skip


def test_typical_queries_read_indexes_not_tables(store: Store, library: dict[str, int]) -> None:
    """No typical query scans photo_tags or photos from end to end."""
    with store.read() as session:
        for query in TYPICAL:
            node, _ = expand_query(parse_query(query), query, neighbours)
            compiled = compile_search(session, resolve(node))
            for statement in (compiled.page, compiled.count):
                sql = statement.compile(dialect=session.bind.dialect, compile_kwargs={"render_postcompile": True})
                params = tuple(sql.params[name] for name in sql.positiontup)
                plan = [row[3] for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
                scans = [
                    step for step in plan if step.startswith("SCAN") and ("photo_tags" in step or "photos" in step)
                ]
                assert not scans, (query, plan)
                assert any("INTEGER PRIMARY KEY" in step or "INDEX" in step for step in plan), (query, plan)
