"""A personal TaggerNet head learned from one library's decisions, validated on decisions it did not see.

What it learns from (and nothing else): tags the user accepted (positives), tags the user rejected (negatives), and the
user's own tags (positives). A suggestion nobody looked at is not a label, so a photo's own suggestions never teach.

What it learns, on top of the shipped head, which stays as it is:

- **Corrections of shipped tags.** For a tag with enough accepted *and* rejected photos (``MIN_CORRECTION`` each), a
  linear correction of the head's logit from the features, ``z' = z + w.x + b``, strongly regularised towards no
  change. It is kept only when, in cross-validation, it predicts the held-out decisions better (log loss) than the
  shipped head does.
- **Tags of the user's own** (a pet's name, "grandma's garden"): a user tag outside the vocabulary with at least
  ``MIN_EXAMPLES`` photos becomes a new output, a logistic regression on the features. Negatives are the photos
  where the user rejected it and a sample of the other photos, weighted down (most of them are negatives, some may be
  untagged positives). Cross-validated scores give its Platt calibration, its threshold (best F1) and the reported
  figures; a tag whose held-out average precision is not clearly above its base rate is left out, with the reason.

Both live in one ``adapter`` linear layer added to the MLP's logits (see
:func:`photo_tagger.pipeline.taggernet.mlp_logits`), so a personal head is the same two files as the shipped one and
the engine loads it the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from photo_tagger.pipeline.taggernet import TaggerNetHead, sigmoid
from photo_tagger.training.card import head_version

MIN_EXAMPLES = 8  # photos with a tag of the user's own before it becomes a tag of the head
MIN_CORRECTION = 3  # accepted and rejected photos of a shipped tag before its correction is tried
FOLDS = 4
UNLABELLED_SAMPLE = 4000  # other photos used as (down-weighted) negatives of a custom tag
UNLABELLED_WEIGHT = 0.3  # how much one of those counts against an explicit rejection
CUSTOM_L2 = 2.0  # strong: ten photos in 1,280 dimensions (chosen by cross-validated AP on Flickr8k custom tags)
CORRECTION_L2 = 1.0
MIN_LIFT = 2.0  # a custom tag's held-out AP must reach this multiple of its base rate (and MIN_AP)
MIN_AP = 0.2


@dataclass
class TagReport:
    """What was learned for one tag, with its cross-validated figures."""

    tag: str
    kind: str  # "custom" | "correction"
    positives: int
    negatives: int
    used: bool
    reason: str = ""
    figures: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"tag": self.tag, "kind": self.kind, "positives": self.positives, "negatives": self.negatives,
                "used": self.used, "reason": self.reason, "figures": {k: round(v, 4) for k, v in self.figures.items()}}


@dataclass
class LearnedHead:
    weights: dict[str, np.ndarray]
    card: dict
    reports: list[TagReport]

    @property
    def version(self) -> str:
        return str(self.card["version"])

    @property
    def learned(self) -> list[TagReport]:
        return [r for r in self.reports if r.used]


@dataclass
class Labels:
    """Decisions as row sets: ``positives[tag]`` / ``negatives[tag]`` index rows of the feature matrix."""

    positives: dict[str, set[int]] = field(default_factory=dict)
    negatives: dict[str, set[int]] = field(default_factory=dict)
    user_tags: set[str] = field(default_factory=set)  # names the user typed (not accepted machine suggestions)
    suggested: dict[str, set[int]] = field(default_factory=dict)  # rows where a tag is an undecided suggestion

    def add(self, row: int, tag: str, positive: bool, by_user: bool = False) -> None:
        (self.positives if positive else self.negatives).setdefault(tag, set()).add(row)
        if by_user:
            self.user_tags.add(tag)


def fold_of(keys: Sequence[int], folds: int = FOLDS) -> np.ndarray:
    """A fixed fold per photo from its id, so learning twice from the same decisions gives the same head."""
    return np.array([int(hashlib.sha1(f"fold-{k}".encode()).hexdigest()[:8], 16) % folds for k in keys])


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float,
                 offset: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """``(w, b)`` minimising the weighted mean log loss of ``sigmoid(offset + x.w + b)`` + ``l2 / 2 * |w|^2``."""
    import torch

    xt = torch.from_numpy(np.asarray(x, dtype=np.float64))
    yt = torch.from_numpy(np.asarray(y, dtype=np.float64))
    wt = torch.from_numpy(np.asarray(weight, dtype=np.float64))
    wt = wt / wt.sum()
    ot = torch.zeros_like(yt) if offset is None else torch.from_numpy(np.asarray(offset, dtype=np.float64))
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([w, b], lr=1.0, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        z = ot + xt @ w + b
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(z, yt, reduction="none") * wt).sum()
        loss = loss + l2 / 2 * (w * w).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return w.detach().numpy(), float(b.detach())


def weighted_figures(p: np.ndarray, y: np.ndarray, counts: np.ndarray,
                     low: float = 0.05, high: float = 0.95) -> tuple[float, float, float, float]:
    """(threshold with the best F1 in [low, high], its precision, its recall, average precision), each row counting
    ``counts`` photos: a sampled negative stands for many photos of the library, a positive for itself."""
    order = np.argsort(-p, kind="stable")
    ranked, hits, weight = p[order], y[order], counts[order]
    true_pos = np.cumsum(hits * weight)
    predicted = np.cumsum(weight)
    positives = float((y * counts).sum())
    f1 = 2 * true_pos / np.maximum(predicted + positives, 1e-12)
    precision_at = true_pos / np.maximum(predicted, 1e-12)
    is_hit = (hits == 1) & (weight > 0)
    ap = float((precision_at * is_hit * weight).sum() / max(positives, 1e-12))
    last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]
    candidates = np.flatnonzero((ranked >= low) & (ranked <= high) & last_of_tie)
    if candidates.size == 0:
        return 0.5, 0.0, 0.0, ap
    best = candidates[np.argmax(f1[candidates])]
    below = ranked[best + 1] if best + 1 < len(ranked) else ranked[best]
    threshold = float(np.clip((ranked[best] + max(below, low)) / 2, low, high))
    return threshold, float(precision_at[best]), float(true_pos[best] / max(positives, 1e-12)), ap


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


class PersonalTrainer:
    """Learns a personal head from ``features`` ``[N, D]`` (one row per photo, ``keys`` its photo id) and ``labels``."""

    def __init__(self, base: TaggerNetHead, features: np.ndarray, keys: Sequence[int], labels: Labels,
                 seed: int = 8, population: np.ndarray | None = None, reserved: frozenset[str] = frozenset()) -> None:
        """``population[i]``: how many library photos row i stands for (rows sampled from the undecided photos stand
        for more than one). ``reserved``: names other stages suggest (hierarchy tags, detector classes), which never
        become tags of the head: a learned copy would take them over from the stage that makes them."""
        self.base = base
        self.population = np.ones(len(keys)) if population is None else np.asarray(population, dtype=np.float64)
        self.reserved = reserved
        self.features = np.asarray(features, dtype=np.float32)
        self.keys = list(keys)
        self.labels = labels
        self.rng = np.random.default_rng(seed)
        self.mean = self.features.mean(axis=0)
        self.scale = np.maximum(self.features.std(axis=0), 1e-3)
        self.folds = fold_of(self.keys)

    def standardised(self, rows: np.ndarray) -> np.ndarray:
        return (self.features[rows] - self.mean) / self.scale

    # -- custom tags ---------------------------------------------------------------------------------------------

    def custom_tags(self) -> list[str]:
        """Tags the user typed that the head does not know and no other stage makes."""
        known = set(self.base.vocabulary) | set(self.base.words) | set(self.reserved)
        return sorted(t for t in self.labels.positives if t in self.labels.user_tags and t not in known)

    def learn_custom(self, tag: str) -> tuple[TagReport, tuple[np.ndarray, float, float, float, float] | None]:
        """A report and, when used, ``(w, b, platt_a, platt_b, threshold)`` in standardised feature space."""
        positives = self.labels.positives.get(tag, set())
        rejected = self.labels.negatives.get(tag, set()) - positives
        report = TagReport(tag, "custom", len(positives), len(rejected), used=False)
        if len(positives) < MIN_EXAMPLES:
            count = f"{len(positives)} photo carries" if len(positives) == 1 else f"{len(positives)} photos carry"
            report.reason = f"only {count} it; {MIN_EXAMPLES} are needed"
            return report, None
        # Negatives: explicit rejections, and other photos, except those where the tag is a suggestion nobody has
        # looked at (a suggestion is not a label). ``population`` says how many library photos each row stands for.
        unlabelled = set(range(len(self.keys))) - positives - rejected - self.labels.suggested.get(tag, set())
        others = np.array(sorted(unlabelled), dtype=np.intp)
        population = self.population[others]
        if len(others) > UNLABELLED_SAMPLE:
            keep = np.sort(self.rng.choice(len(others), UNLABELLED_SAMPLE, replace=False))
            population = population[keep] * (population.sum() / population[keep].sum())
            others = others[keep]
        rows = np.concatenate([np.array(sorted(positives)), np.array(sorted(rejected), dtype=np.intp), others])
        y = np.concatenate([np.ones(len(positives)), np.zeros(len(rejected) + len(others))])
        weight = np.concatenate([np.ones(len(positives) + len(rejected)), np.full(len(others), UNLABELLED_WEIGHT)])
        weight[y == 1] *= weight[y == 0].sum() / max(weight[y == 1].sum(), 1e-9)  # classes weigh the same
        x = self.standardised(rows)
        folds = self.folds[rows]
        held_out = np.zeros(len(rows))
        scored = np.zeros(len(rows), dtype=bool)
        fitted: list[tuple[np.ndarray, float]] = []
        for k in range(FOLDS):
            train, test = folds != k, folds == k
            if not test.any() or y[train].sum() < 2:
                continue
            w, b = fit_logistic(x[train], y[train], weight[train], CUSTOM_L2)
            held_out[test] = x[test] @ w + b
            scored |= test
            fitted.append((w, b))
        # Calibration, threshold and figures as the whole library would see them: each row weighs the photos it
        # stands for, and rows no fold model scored weigh nothing.
        counts = np.concatenate([np.ones(len(positives) + len(rejected)), population]) * scored
        platt, shift = fit_logistic(held_out[:, None], y, counts, l2=1e-6)
        a, c = float(platt[0]), shift
        probability = sigmoid(a * held_out + c)
        threshold, precision, recall, ap = weighted_figures(probability, y, counts)
        base_rate = float((counts * y).sum() / counts.sum())
        report.figures = {"ap": ap, "base_rate": base_rate, "precision": precision, "recall": recall,
                          "f1": 2 * precision * recall / max(precision + recall, 1e-9), "threshold": threshold}
        if ap < max(MIN_AP, MIN_LIFT * base_rate):
            report.reason = f"held-out AP {ap:.2f} is not clearly above the base rate {base_rate:.2f}"
            return report, None
        # The tag's model is the fold models' average, not a refit on every photo: the calibration and threshold were
        # fitted to fold models' scores on photos they had not seen, which is what a new photo is. A refit on all
        # positives scores new photos on another scale (it is surer of itself with every positive it has seen).
        w = np.mean([w for w, _ in fitted], axis=0)
        b = float(np.mean([b for _, b in fitted]))
        report.used = True
        return report, (w, b, a, c, threshold)

    # -- corrections of shipped tags -----------------------------------------------------------------------------

    def correction_tags(self) -> list[str]:
        return sorted(t for t in self.base.vocabulary
                      if len(self.labels.positives.get(t, ())) >= MIN_CORRECTION
                      and len(self.labels.negatives.get(t, ())) >= MIN_CORRECTION)

    def learn_correction(self, tag: str) -> tuple[TagReport, tuple[np.ndarray, float] | None]:
        j = self.base.index[tag]
        positives = self.labels.positives.get(tag, set())
        negatives = self.labels.negatives.get(tag, set()) - positives
        rows = np.array(sorted(positives) + sorted(negatives), dtype=np.intp)
        y = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
        report = TagReport(tag, "correction", len(positives), len(negatives), used=False)
        weight = np.where(y == 1, len(negatives), len(positives)).astype(np.float64)
        base_z = self.base.logits(self.features[rows])[:, j].astype(np.float64)
        platt = self.base.calibration["head"]
        calibrate = (lambda z: sigmoid(platt.a[j] * z + platt.b[j])) if not np.isnan(platt.a[j]) else sigmoid
        x = self.standardised(rows)
        folds = self.folds[rows]
        corrected = base_z.copy()
        for k in range(FOLDS):
            train, test = folds != k, folds == k
            if not test.any() or len(set(y[train])) < 2:
                continue
            w, b = fit_logistic(x[train], y[train], weight[train], CORRECTION_L2, offset=base_z[train])
            corrected[test] = base_z[test] + x[test] @ w + b
        before, after = calibrate(base_z), calibrate(corrected)
        threshold = self.base.thresholds[j]
        report.figures = {
            "log_loss_shipped": log_loss(before, y), "log_loss_personal": log_loss(after, y),
            "agreement_shipped": float(((before >= threshold) == (y == 1)).mean()),
            "agreement_personal": float(((after >= threshold) == (y == 1)).mean()),
        }  # fmt: skip
        if report.figures["log_loss_personal"] >= report.figures["log_loss_shipped"]:
            report.reason = "did not predict your held-out decisions better than the shipped head"
            return report, None
        report.used = True
        return report, fit_logistic(x, y, weight, CORRECTION_L2, offset=base_z)

    # -- the head --------------------------------------------------------------------------------------------------

    def train(self, progress: Callable[[int, int], None] | None = None) -> LearnedHead:
        """Learn every tag there is something to learn for; ``progress(done, total)`` after each tag."""
        reports: list[TagReport] = []
        custom: dict[str, tuple] = {}
        corrections: dict[str, tuple] = {}
        jobs = [(tag, False) for tag in self.correction_tags()] + [(tag, True) for tag in self.custom_tags()]
        for done, (tag, is_custom) in enumerate(jobs, 1):
            report, fitted = self.learn_custom(tag) if is_custom else self.learn_correction(tag)
            reports.append(report)
            if fitted is not None:
                (custom if is_custom else corrections)[tag] = fitted
            if progress:
                progress(done, len(jobs))
        weights, card = self._assemble(corrections, custom, reports)
        return LearnedHead(weights, card, reports)

    def _fold_scaling(self, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
        """``w.(x - mean)/scale + b`` as ``w'.x + b'`` on raw features."""
        raw = w / self.scale
        return raw.astype(np.float32), float(b - raw @ self.mean)

    def _assemble(self, corrections: Mapping[str, tuple], custom: Mapping[str, tuple],
                  reports: list[TagReport]) -> tuple[dict[str, np.ndarray], dict]:
        base = self.base
        names = list(custom)
        size, dim = len(base.vocabulary) + len(names), self.features.shape[1]
        weights = {k: v.copy() for k, v in base.weights.items() if k.startswith("layers.")}
        last = sum(1 for k in weights) // 2 - 1
        hidden = weights[f"layers.{last}.weight"].shape[1]
        weights[f"layers.{last}.weight"] = np.vstack([weights[f"layers.{last}.weight"],
                                                      np.zeros((len(names), hidden), np.float32)])
        weights[f"layers.{last}.bias"] = np.concatenate([weights[f"layers.{last}.bias"], np.zeros(len(names))])
        adapter = np.zeros((size, dim), np.float32)
        adapter_bias = np.zeros(size, np.float32)
        for tag, (w, b) in corrections.items():
            j = base.index[tag]
            raw, shift = self._fold_scaling(w, b)
            adapter[j] += raw
            adapter_bias[j] += shift
        card = _extended_card(base.card, names)
        for offset, tag in enumerate(names):
            j = len(base.vocabulary) + offset
            w, b, a, c, threshold = custom[tag]
            adapter[j], adapter_bias[j] = self._fold_scaling(w, b)
            card["calibration"]["head"]["a"][j], card["calibration"]["head"]["b"][j] = float(a), float(c)
            card["thresholds"][j] = threshold
        weights["adapter.weight"], weights["adapter.bias"] = adapter, adapter_bias
        card["personal"] = {
            "base": base.version,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "photos": len(self.keys),
            "decisions": sum(len(v) for v in self.labels.positives.values())
            + sum(len(v) for v in self.labels.negatives.values()),
            "validation": f"{FOLDS}-fold cross-validation over photos",
            "tags": [r.as_dict() for r in reports],
        }
        card["version"] = head_version(weights, card)
        return weights, card


def _extended_card(card: Mapping, new_tags: Sequence[str]) -> dict:
    """The base card with ``new_tags`` appended: no hierarchy or detector evidence for them, the head's own score
    passed through the merge unchanged (calibration filled in by the caller)."""
    import copy

    out = copy.deepcopy(dict(card))
    extra = len(new_tags)
    out["vocabulary"] = list(out["vocabulary"]) + list(new_tags)
    out["words"] = sorted(set(out.get("words", [])) | set(new_tags))
    out["thresholds"] = list(out["thresholds"]) + [0.5] * extra
    for source, curve in out["calibration"].items():
        fill = [1.0, 0.0] if source == "head" else [None, None]
        curve["a"] = list(curve["a"]) + [fill[0]] * extra
        curve["b"] = list(curve["b"]) + [fill[1]] * extra
        if curve.get("silent"):
            curve["silent"] = list(curve["silent"]) + [None] * extra
    fusion = out["fusion"]
    # One source only: pooled log-odds = the head's own, and the final curve leaves it as it is.
    fusion["prior"] = list(fusion["prior"]) + [0.05] * extra
    if fusion.get("final"):
        fusion["final"]["a"] = list(fusion["final"]["a"]) + [1.0] * extra
        fusion["final"]["b"] = list(fusion["final"]["b"]) + [0.0] * extra
    for mapping in out.get("sources", {}).values():
        for tag in new_tags:
            mapping.setdefault(tag, [])
    return out
