"""Library ▸ Re-tag Library… and Learn from My Tags…: the dialogs on a real library, with real models.

A model update is simulated with a copy of the shipped head whose thresholds for a few tags moved and whose card
has another version: the photos' stored evidence is re-scored with it, so a re-tag has gains and losses.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QMessageBox, QProgressDialog

from photo_tagger.gui.learn_dialog import LearnDialog
from photo_tagger.gui.retag_dialog import RetagDialog, changed_tags, status_message, summary_lines, version_changes
from photo_tagger.learn import LearnResult
from photo_tagger.library import Library
from photo_tagger.retag.diff import RetagDiff
from photo_tagger.store import TagSource, TagState
from photo_tagger.training.personal import LearnedHead, TagReport
from tests.gui.conftest import wait_for

NEW_VERSION = "taggernet-test-v2"  # the version of the `second_head` fixture (tests/conftest.py)


@pytest.fixture(autouse=True)
def close_dialogs(qapp):
    """A dialog is a window of its own: left open, it would stay modal over the next test's window."""
    yield
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.done(0)


def suggestions(library: Library) -> dict[str, set[str]]:
    out = {}
    for hit in library.search("", limit=100).hits:
        _, tags = library.tags_of(hit.path)
        out[hit.path] = {t.name for t in tags if t.state == TagState.SUGGESTED and t.source != TagSource.USER}
    return out


def open_dialog(window, name: str = "retag") -> RetagDialog:
    window.actions_by_name[name].trigger()
    dialog = window.findChild(RetagDialog)
    assert dialog is not None and dialog.isVisible()
    wait_for(lambda: dialog.diff is not None, timeout=30, what="the comparison")
    return dialog


def test_the_menu_actions_are_enabled(window):
    assert window.actions_by_name["retag"].isEnabled() and window.actions_by_name["learn"].isEnabled()


def test_unchanged_models_have_nothing_to_change(window, library):
    dialog = open_dialog(window)
    assert dialog.diff.up_to_date == dialog.diff.photos == 6 and not dialog.diff.tags
    assert not dialog.apply_button.isEnabled()
    assert "Nothing to change" in dialog.summary.text() and dialog.table.isHidden()
    assert dialog.close_button.text() == "Close"
    dialog.close_button.click()
    wait_for(lambda: window.findChild(RetagDialog) is None, what="the dialog to go")


def test_apply_retags_with_the_new_head_keeps_decisions_and_restarts_the_worker(make_window, library_settings,
                                                                                 second_head, second_head_changes,
                                                                                 tagger):
    easier, harder = second_head_changes
    with Library.open(replace(library_settings, head_path=second_head)) as library:
        dog = next(path for path, tags in suggestions(library).items() if path.endswith("/dog.jpg"))
        assert "dog" in suggestions(library)[dog]
        library.decide("accept", "dog", [dog])  # the new head makes dog much harder: the acceptance must stay
        before = suggestions(library)
        # The worker starts with the session's Tagger, which has the shipped head: it must not survive the apply.
        window = make_window(library, background=True, watch=False, tagger=tagger)
        old_background = window.background
        dialog = open_dialog(window)
        diff = dialog.diff
        assert diff.from_evidence == 6 and diff.needs_images == 0 and diff.changed > 0
        listed = {dialog.table.topLevelItem(i).text(0) for i in range(dialog.table.topLevelItemCount())}
        assert listed == {t.tag for t in changed_tags(diff)}
        assert listed & set(easier) and listed & set(harder)
        assert dialog.apply_button.isEnabled() and dialog.table.isVisible()
        assert suggestions(library) == before  # comparing writes nothing

        dialog.apply_button.click()
        wait_for(lambda: window.findChild(RetagDialog) is None, timeout=30, what="the re-tag to be applied")
        after = suggestions(library)
        lost = {(p, t.tag) for t in diff.tags.values() for p in t.lost_examples}
        gained = {(p, t.tag) for t in diff.tags.values() for p in t.gained_examples}
        assert lost and all(tag not in after[path] for path, tag in lost)
        assert gained and all(tag in after[path] for path, tag in gained)
        _, dog_tags = library.tags_of(dog)
        assert ("dog", TagState.ACCEPTED) in {(t.name, t.state) for t in dog_tags}
        assert window.statusBar().currentMessage().startswith(f"Re-tagged: {diff.changed} photo")
        # A new worker, with a Tagger that has the new head, runs again (it could not have while apply held the lock).
        assert window.background is not old_background and window.background.running
        assert window.background.worker.tagger.model_versions["head"] == NEW_VERSION
        again = library.retag(tagger=dialog.tagger)
        assert again.up_to_date == again.photos == 6 and not again.tags


def test_learning_with_no_decisions_says_so(make_window, library_settings, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, title, text: shown.append((title, text)))
    with Library.open(replace(library_settings, library_path=tmp_path / "empty.sqlite")) as empty:
        window = make_window(empty)
        window.actions_by_name["learn"].trigger()
        wait_for(lambda: shown, timeout=30, what="the message")
        assert shown == [("Learn from My Tags", shown[0][1])] and "nothing to learn" in shown[0][1]
        assert window.findChild(LearnDialog) is None and window.findChild(QProgressDialog).isHidden()


def test_learning_from_too_few_tags_reports_why_and_keeps_the_head(window, library):
    # The album's photos carry a few keywords of their own (user tags, one photo each): too few to learn from.
    window.actions_by_name["learn"].trigger()
    wait_for(lambda: window.findChild(LearnDialog) is not None, timeout=30, what="the report")
    dialog = window.findChild(LearnDialog)
    assert dialog.result.version is None and dialog.retag_button is None
    assert dialog.table.topLevelItemCount() == len(dialog.result.reports) > 0
    item = dialog.table.topLevelItem(0)
    assert item.text(3) == "not learned" and "8 are needed" in item.text(4)
    assert dialog.outcome.text() == "Nothing was learned; the library's head is unchanged."
    assert not (library.settings.library_path.parent / "library-heads").exists()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Close).click()
    assert not dialog.isVisible()


def test_the_learn_report_lists_each_tag_and_offers_a_retag(window):
    reports = [
        TagReport("rex", "custom", 12, 40, True, figures={"ap": 0.91, "base_rate": 0.2, "precision": 0.8,
                                                           "recall": 0.7, "f1": 0.75, "threshold": 0.4}),
        TagReport("dog", "correction", 9, 8, False, "did not predict your held-out decisions better than the "
                  "shipped head", {"agreement_shipped": 0.7, "agreement_personal": 0.65, "log_loss_shipped": 0.5,
                                   "log_loss_personal": 0.6}),
    ]
    head = LearnedHead({}, {"version": "personal-abc"}, reports)
    dialog = LearnDialog(window, LearnResult(head, Path("/nowhere"), 29, 120, 3, reports))
    dialog.open()
    rows = [[dialog.table.topLevelItem(i).text(c) for c in range(5)] for i in range(2)]
    assert rows[0] == ["rex", "your tag", "12+ / 40\u2212", "learned",
                       "held-out AP 0.91 (base rate 0.20), precision 0.80, recall 0.70"]
    assert rows[1][:4] == ["dog", "correction", "9+ / 8\u2212", "not learned"]
    assert rows[1][4] == ("agreement with your held-out decisions 0.70 \u2192 0.65\n"
                          "did not predict your held-out decisions better than the shipped head")
    assert "3 decisions on photos not tagged yet were left out" in dialog.heading.text()
    assert "personal-abc is now the library's head" in dialog.outcome.text()
    dialog.retag_button.click()
    retag = window.findChild(RetagDialog)
    assert retag is not None and retag.isVisible()
    wait_for(lambda: retag.diff is not None, timeout=30, what="the comparison")
    retag.close_button.click()


def test_nothing_learned_offers_no_retag(window):
    reports = [TagReport("rex", "custom", 2, 40, False, "too few examples")]
    dialog = LearnDialog(window, LearnResult(None, None, 42, 120, 0, reports))
    assert dialog.retag_button is None
    assert dialog.outcome.text() == "Nothing was learned; the library's head is unchanged."


def test_the_summary_names_the_models_that_changed_and_what_apply_did():
    diff = RetagDiff({"backbone": "b1", "head": "h2"}, applied=True, photos=5, from_evidence=3, changed=2,
                     needs_images=2, queued=2, old_versions={"backbone=b1, head=h1": 3, "backbone=b0, head=h1": 2})
    diff.tag("dog").gained = 1
    diff.tag("cat").lost = 2
    diff.tag("cat").rescored = 1
    assert version_changes(diff) == ["head h1 \u2192 h2 (5 photos)", "backbone b0 \u2192 b1 (2 photos)"]
    assert summary_lines(diff) == [
        "5 tagged photos: 0 up to date, 3 re-scored from stored features (2 change), 2 need the images again",
        "Suggestions: +1 gained, \u22122 lost", "1 suggestion keeps its tag with a new score",
        "2 photos queued to be tagged from their images"]
    assert status_message(diff) == ("Re-tagged: 2 photos changed (+1 / \u22122 suggestions); 2 photos queued to be "
                                    "tagged from their images")
    assert [t.tag for t in changed_tags(diff)] == ["cat", "dog"]
