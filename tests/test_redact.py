"""--redact: personal data replaced before anything is stored or embedded; the reps' names and the vocabulary stay."""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import pytest

from conftest import ROOT, BagEmbedder, FakeModels, ScriptTranscriber
from pipeline import cli
from pipeline.analyze import analyze
from pipeline.core.records import REP, Turn, Word
from pipeline.core.settings import Settings
from pipeline.language import redact
from pipeline.storage import db

HAS_PRESIDIO = importlib.util.find_spec("presidio_analyzer") is not None
needs_presidio = pytest.mark.skipif(not HAS_PRESIDIO and os.environ.get("CI") != "true",
                                    reason="the privacy extra is not installed (make test installs it)")


@pytest.fixture(scope="module")
def redactor():
    """The real redactor, built and first used with every network connection refused (it must never download)."""
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network blocked in tests")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket, "create_connection", refuse)
        built = redact.PresidioRedactor()
        assert built.redact(["Mail maria@acme.co.uk"]) == ["Mail <EMAIL>"]
    return built


def test_redacted_words_keep_their_times_and_punctuation():
    words = (Word(0.0, 0.4, "Call"), Word(0.5, 0.9, "Maria"), Word(1.0, 1.4, "Lopez,"), Word(1.5, 1.9, "she's"),
             Word(2.0, 2.4, "at"), Word(2.5, 2.9, "555-0101."))
    turn = Turn(0, "prospect", 0.0, 2.9, " ".join(w.text for w in words), words=words, name="Maria Lopez")
    text = turn.text
    spans = [(text.index("Maria"), text.index(","), "<PERSON>"), (text.index("555"), len(text) - 1, "<PHONE>")]
    (out,) = redact.redact_turns([turn], [spans], keep=frozenset())
    assert out.text == "Call <PERSON>, she's at <PHONE>."
    assert [(w.start_s, w.end_s, w.text) for w in out.words] == [
        (0.0, 0.4, "Call"), (0.5, 1.4, "<PERSON>,"), (1.5, 1.9, "she's"), (2.0, 2.4, "at"), (2.5, 2.9, "<PHONE>.")]
    assert out.name == "<PERSON>"  # a prospect's name from a transcript goes too
    rep = Turn(1, REP, 3.0, 4.0, "Thanks", words=(Word(3.0, 4.0, "Thanks"),), name="Dana Smith")
    assert redact.redact_turns([rep], [[]], keep=frozenset())[0].name == "Dana Smith"  # a rep's name stays


def test_redact_without_the_privacy_extra_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "presidio_analyzer", None)  # import fails as if not installed
    (tmp_path / "inbox").mkdir()
    code = cli.main(["analyze", "--redact", "--inbox", str(tmp_path / "inbox"), "--db", str(tmp_path / "d.duckdb")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "needs the privacy extra" in err and "[privacy]" in err
    monkeypatch.setenv("PITCHLAB_REDACT", "1")
    assert cli.main(["analyze", "--inbox", str(tmp_path / "inbox"), "--db", str(tmp_path / "d.duckdb")]) == 2
    assert "needs the privacy extra" in capsys.readouterr().err


def test_redact_is_off_by_default(monkeypatch):
    monkeypatch.delenv("PITCHLAB_REDACT", raising=False)
    assert Settings.from_env().redact is False
    monkeypatch.setenv("PITCHLAB_REDACT", "0")
    assert Settings.from_env().redact is False


@needs_presidio
def test_redaction_meets_its_floors_on_the_labelled_sentences(redactor):
    sys.path.insert(0, str(ROOT / "scripts"))
    import eval_redaction

    result = eval_redaction.evaluate(redactor)
    assert sum(n for _, _, n in result.recall.values()) >= 100
    assert eval_redaction.meets_floors(result), eval_redaction.report(result, verbose=True)


CALL = {"rep": "Dana", "outcome": "interested", "turns": [
    {"speaker": "Dana Smith", "text": "Hi, this is Dana from Clipcast. Am I speaking with Maria Lopez?", "start": 0.0, "end": 4.0},
    {"speaker": "Maria Lopez", "text": "Yes. Call me on 415-555-0132 or maria.lopez@northwind.com.", "start": 4.5, "end": 8.0},
    {"speaker": "Dana Smith", "text": "You see exactly who watched your video. It syncs into Salesforce automatically.",
     "start": 8.5, "end": 13.0},
    {"speaker": "Maria Lopez", "text": "Nice, how does that work? Put it on 4111 1111 1111 1111 and ship to 42 Wallaby Way, Sydney.",
     "start": 13.5, "end": 19.0},
]}


@needs_presidio
def test_analyze_stores_only_redacted_text(tmp_path, redactor):
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "call.json").write_text(json.dumps(CALL))
    vocab = tmp_path / "vocabulary.txt"
    vocab.write_text("Clipcast\nSalesforce\n")
    settings = Settings(inbox=box, db=tmp_path / "d.duckdb", progress=False, redact=True, vocabulary=vocab)
    embedded = []

    class RecordingEmbedder(BagEmbedder):
        def embed(self, texts):
            embedded.extend(texts)
            return super().embed(texts)

    summary = analyze(settings, models=FakeModels(ScriptTranscriber([[]]), embedder=RecordingEmbedder(),
                                                  redactor=redactor))
    assert summary.processed == 1
    assert embedded and not any(s in t for t in embedded for s in ("Lopez", "555", "northwind", "4111", "Wallaby"))
    with db.opened(settings.db, read_only=True) as con:
        turns = con.execute("SELECT speaker_name, text FROM turns ORDER BY turn_idx").fetchall()
        phrases = con.execute("SELECT text, start_s FROM pitch_phrases ORDER BY phrase_id").fetchall()
        reactions = con.execute("SELECT text FROM reactions").fetchall()
    assert turns == [
        ("Dana Smith", "Hi, this is Dana from Clipcast. Am I speaking with <PERSON>?"),
        ("<PERSON>", "Yes. Call me on <PHONE> or <EMAIL>."),
        ("Dana Smith", "You see exactly who watched your video. It syncs into Salesforce automatically."),
        ("<PERSON>", "Nice, how does that work? Put it on <CARD> and ship to <ADDRESS>."),
    ]
    assert ("It syncs into Salesforce automatically.",) in [(p[0],) for p in phrases]
    assert reactions and all("<CARD>" in r[0] for r in reactions)
    raw = settings.db.read_bytes()
    for secret in (b"Lopez", b"555-0132", b"northwind", b"4111", b"Wallaby"):
        assert secret not in raw


def test_without_redact_the_text_is_stored_as_said(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "call.json").write_text(json.dumps(CALL))
    settings = Settings(inbox=box, db=tmp_path / "d.duckdb", progress=False)
    analyze(settings, models=FakeModels(ScriptTranscriber([[]])))
    with db.opened(settings.db, read_only=True) as con:
        assert "415-555-0132" in con.execute("SELECT text FROM turns WHERE turn_idx = 1").fetchone()[0]


def demo_transcripts(box):
    """The 28 demo calls as JSON transcripts: the generator's own script of every turn (data/demo_truth.json),
    with its times, rep and the outcomes of data/demo/outcomes.csv."""
    truth = json.loads((ROOT / "data" / "demo_truth.json").read_text())
    for call in truth["calls"]:
        turns = [{"speaker": t["speaker"], "text": t["text"], "start": t["start_s"], "end": t["end_s"]}
                 for t in call["turns"]]
        body = {"rep": call["rep"], "turns": turns}
        if call["outcome_in_csv"]:
            body["outcome"] = call["outcome"]
        (box / (call["file"].rsplit(".", 1)[0] + ".json")).write_text(json.dumps(body))


@pytest.mark.e2e
@needs_presidio
def test_redaction_leaves_the_demo_leaderboard_unchanged(tmp_path):
    """Real spaCy, MiniLM and Presidio on the demo's 28 calls, with and without --redact."""
    from pipeline.analyze import Models
    from pipeline.analysis.stats import leaderboard

    box = tmp_path / "inbox"
    box.mkdir()
    demo_transcripts(box)
    vocab = tmp_path / "vocabulary.txt"
    vocab.write_text("Clipcast\n")  # the demo's product, as its team would give it
    models, boards, texts = None, [], []
    for redacted in (False, True):
        settings = Settings(inbox=box, db=tmp_path / f"{redacted}.duckdb", progress=False, redact=redacted,
                            vocabulary=vocab)
        models = models or Models(settings)
        models.settings = settings
        assert analyze(settings, models=models).processed == 28
        with db.opened(settings.db, read_only=True) as con:
            # 4 decimals: the embeddings' last bits depend on which other texts share a batch
            # (docs/how-it-works.md), which moved a mean reply interest by 1e-6; the leaderboard shows 2 decimals
            boards.append([tuple(round(v, 4) if isinstance(v, float) else v for v in vars(r).values())
                           for r in leaderboard(con)])
            members = con.execute("SELECT phrase_id, text, cluster_id FROM pitch_phrases WHERE kind = 'pitch' "
                                  "ORDER BY phrase_id").fetchall()
            boards[-1].append(members)  # every pitch phrase, word for word, in the same cluster
            texts.append(con.execute("SELECT text FROM turns ORDER BY call_id, turn_idx").fetchall())
    changed = [(a[0], b[0]) for a, b in zip(*texts) if a != b]
    assert changed and all("<PERSON>" in b for _, b in changed)  # the prospects' names in greetings went
    assert boards[0] and boards[0] == boards[1]
