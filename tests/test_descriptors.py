"""Descriptors: the CSV, SQL re-assignment, the two-level views, review/assign and recluster."""

import io

import numpy as np
import pytest

from conftest import BagEmbedder
from pipeline import cli, descriptors_cli
from pipeline.analysis import cluster, descriptors
from pipeline.analysis.evidence import benjamini_hochberg, fisher_p
from pipeline.core.errors import PitchlabError
from pipeline.storage import db, migrations

WATCHED = "you will know exactly who watched your video today"
WATCHED_GARBLED = "you will no exactly who washed your video today"  # speech recognition misheard two words
SYNCS = "it syncs every call into your crm automatically"
PRICE = "pricing starts at ten dollars a seat per month"
CSV = """# the benefits we test
descriptor,example

viewer analytics,know who watched
crm sync,syncs into your crm
"""


def add_calls(con, uses, outcomes=None, reps=None):
    """uses: {call_id: [text, ...]}: each text one pitch phrase of that call."""
    emb = BagEmbedder()
    for cid, texts in uses.items():
        outcome = (outcomes or {}).get(cid)
        con.execute("INSERT INTO calls (call_id, source_file, duration_s, channels, sample_rate, size_bytes, outcome, "
                    "outcome_source, speaker_method, model, rep) VALUES (?, ?, 60, 1, 16000, 1, ?, ?, 'channel', 'f', ?)",
                    [cid, cid + ".wav", outcome, "label" if outcome else None, (reps or {}).get(cid)])
        for i, (text, vec) in enumerate(zip(texts, emb.embed(texts))):
            con.execute("INSERT INTO pitch_phrases (phrase_id, call_id, turn_idx, start_s, end_s, text, kind, "
                        "kind_evidence, embedding) VALUES (?, ?, 0, 0, 1, ?, 'pitch', '', ?)",
                        [f"{cid}-p{i}", cid, text, vec.tolist()])


def corpus(con):
    add_calls(con, {
        "c1": [WATCHED, SYNCS], "c2": [WATCHED], "c3": [WATCHED, PRICE], "c4": [WATCHED_GARBLED],
        "c5": [SYNCS, PRICE], "c6": [SYNCS], "c7": [PRICE],
    }, outcomes={"c1": "interested", "c2": "interested", "c3": "not_interested", "c4": "interested",
                 "c5": "not_interested", "c6": "interested", "c7": "not_interested"})
    cluster.update(con)


def assigned(con):
    return dict(con.execute("SELECT p.text || ' @' || p.call_id, coalesce(d.name, 'other') || '/' || "
                            "p.descriptor_method FROM pitch_phrases p LEFT JOIN descriptors d USING (descriptor_id)"
                            ).fetchall())


# --- the CSV ---

def test_csv_allows_comments_blank_lines_and_several_rows_per_descriptor():
    got = descriptors.parse_csv(CSV + "viewer analytics,\"see who watched, and for how long\"\n")
    assert got == (descriptors.Declared("viewer analytics", ("know who watched", "see who watched, and for how long")),
                   descriptors.Declared("crm sync", ("syncs into your crm",)))


@pytest.mark.parametrize("text, message", [
    ("name,example\nx,y\n", "x.csv line 1: no `descriptor` column"),
    ("descriptor\nx\n", "x.csv line 1: no `example` column"),
    ("descriptor,example\n# c\nfast setup,\n", "x.csv line 3: empty example for 'fast setup'"),
    ("descriptor,example\nCRM sync,a\n\ncrm sync,b\n", "x.csv line 4: 'crm sync' differs only in case from 'CRM sync' (line 2)"),
    ("descriptor,example\nother,a\n", "x.csv line 2: `other` is reserved"),
    ("descriptor,example\n,a\n", "x.csv line 2: empty descriptor name"),
])
def test_bad_csv_is_one_line_naming_the_row(text, message):
    with pytest.raises(PitchlabError) as exc:
        descriptors.parse_csv(text, source="x.csv")
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def test_a_bad_descriptors_file_stores_nothing(tmp_path, capsys):
    path = tmp_path / "c.duckdb"
    with db.opened(path) as con:
        corpus(con)
        before = con.execute("SELECT * EXCLUDE (created_at) FROM descriptors ORDER BY ALL").fetchall()
        phrases = con.execute("SELECT phrase_id, descriptor_id, descriptor_method FROM pitch_phrases ORDER BY 1").fetchall()
    bad = tmp_path / "d.csv"
    bad.write_text("descriptor,example\nviewer analytics,know who watched\nViewer Analytics,see who watched\n")
    assert cli.main(["recluster", "--db", str(path), "--descriptors", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "d.csv line 3: 'Viewer Analytics' differs only in case" in err
    with db.opened(path) as con:
        assert con.execute("SELECT * EXCLUDE (created_at) FROM descriptors ORDER BY ALL").fetchall() == before
        assert con.execute("SELECT phrase_id, descriptor_id, descriptor_method FROM pitch_phrases ORDER BY 1"
                           ).fetchall() == phrases


# --- assignment ---

def test_declaring_reassigns_stored_phrases_and_nothing_else(tmp_path):
    with db.opened(tmp_path / "c.duckdb") as con:
        corpus(con)
        tables = {t: con.execute(f"SELECT * EXCLUDE ({skip}) FROM {t} ORDER BY ALL").fetchall() for t, skip in [
            ("calls", "processed_at"), ("turns", "call_id"), ("reactions", "call_id"),
            ("pitch_phrases", "descriptor_id, descriptor_similarity, descriptor_method"),
            ("clusters", "descriptor_id, descriptor_confidence, fitted_at")]}
        assert set(assigned(con).values()) <= {f"{n}/suggested" for n in
                                               [r[0] for r in con.execute("SELECT name FROM descriptors").fetchall()]}
        assert descriptors.declare(con, descriptors.parse_csv(CSV), BagEmbedder(), replace_all=True)
        after = {t: con.execute(f"SELECT * EXCLUDE ({skip}) FROM {t} ORDER BY ALL").fetchall() for t, skip in [
            ("calls", "processed_at"), ("turns", "call_id"), ("reactions", "call_id"),
            ("pitch_phrases", "descriptor_id, descriptor_similarity, descriptor_method"),
            ("clusters", "descriptor_id, descriptor_confidence, fitted_at")]}
        got = assigned(con)
        assert not descriptors.declare(con, descriptors.parse_csv(CSV), BagEmbedder(), replace_all=True)  # unchanged
    assert after == tables
    assert {k: v for k, v in got.items() if not v.endswith("suggested")} == {
        f"{WATCHED} @c1": "viewer analytics/example", f"{WATCHED} @c2": "viewer analytics/example",
        f"{WATCHED} @c3": "viewer analytics/example",
        # its own similarity to "know who watched" is 0.19, but its wording's phrases say viewer analytics
        f"{WATCHED_GARBLED} @c4": "viewer analytics/wording",
        f"{SYNCS} @c1": "crm sync/example", f"{SYNCS} @c5": "crm sync/example", f"{SYNCS} @c6": "crm sync/example",
    }
    assert {k.split(" @")[0] for k, v in got.items() if v.endswith("suggested")} == {PRICE}  # fits no declared one


def test_a_paraphrase_sharing_few_words_with_the_one_example_line_still_takes_its_descriptor(tmp_path):
    viewers = "each viewer of the video shows up by name with how long they watched it and when"
    with db.opened(tmp_path / "c.duckdb") as con:
        corpus(con)
        add_calls(con, {"c8": [viewers], "c9": [viewers], "c10": [viewers]})
        cluster.update(con)
        descriptors.declare(con, descriptors.parse_csv(CSV), BagEmbedder())
        got = {v for k, v in assigned(con).items() if k.startswith(viewers)}
        similarity = con.execute("SELECT DISTINCT round(descriptor_similarity, 3) FROM pitch_phrases WHERE text = ?",
                                 [viewers]).fetchall()
    # to "viewer analytics: know who watched" (0.28 to the line alone: the name's words count too)
    assert similarity == [(0.325,)]
    assert got == {"viewer analytics/example"}


def test_a_phrase_fitting_nothing_is_other_never_forced(tmp_path):
    with db.opened(tmp_path / "c.duckdb") as con:
        corpus(con)
        descriptors.declare(con, descriptors.parse_csv(CSV), BagEmbedder())
        cid = con.execute("SELECT cluster_id FROM pitch_phrases WHERE text = ?", [PRICE]).fetchone()[0]
        descriptors.assign_cluster(con, cid, "other")
        rows = con.execute("SELECT DISTINCT descriptor_id, descriptor_method, descriptor_similarity < 0.3 "
                           "FROM pitch_phrases WHERE text = ?", [PRICE]).fetchall()
    assert rows == [(None, "confirmed", True)]


def test_remove_and_add_reassign_in_one_go(tmp_path):
    with db.opened(tmp_path / "c.duckdb") as con:
        corpus(con)
        descriptors.declare(con, descriptors.parse_csv(CSV), BagEmbedder())
        descriptors.remove(con, "CRM SYNC")
        assert {v for k, v in assigned(con).items() if k.startswith(SYNCS)} == {f"{n}/suggested" for n in [
            con.execute("SELECT d.name FROM pitch_phrases p JOIN descriptors d USING (descriptor_id) "
                        "WHERE p.text = ?", [SYNCS]).fetchone()[0]]}
        descriptors.declare(con, [descriptors.Declared("pricing", ("pricing starts at ten dollars",))], BagEmbedder())
        names = {v for k, v in assigned(con).items() if k.startswith(PRICE)}
    assert names == {"pricing/example"}
    with pytest.raises(PitchlabError, match="no declared descriptor 'nope'"):
        with db.opened(tmp_path / "c.duckdb") as con:
            descriptors.remove(con, "nope")


# --- the views, by hand ---

def test_views_agree_with_a_hand_computation(tmp_path):
    with db.opened(tmp_path / "v.duckdb") as con:
        outcomes = {"a": "interested", "b": "interested", "c": "not_interested", "d": "not_interested",
                    "e": "interested", "f": None}
        reps = {"a": "Dana", "b": "Sam", "c": "Dana", "d": "Sam", "e": "Dana", "f": "Sam"}
        for cid, outcome in outcomes.items():
            con.execute("INSERT INTO calls (call_id, source_file, size_bytes, outcome, outcome_source, speaker_method, "
                        "rep) VALUES (?, ?, 1, ?, ?, 'channel', ?)",
                        [cid, cid, outcome, "label" if outcome else None, reps[cid]])
        con.execute("INSERT INTO descriptors (descriptor_id, name, source, examples) VALUES "
                    "(1, 'analytics', 'declared', ['see who watched']), (2, 'sync', 'declared', ['crm sync'])")
        for cid, desc in [(1, 1), (2, 1), (3, 2), (0, None)]:
            con.execute("INSERT INTO clusters (cluster_id, label, size, example, centroid, descriptor_id) "
                        "VALUES (?, ?, 0, 'x', ?, ?)", [cid, f"w{cid}", [0.0] * 384, desc])
        # wording 1 (analytics) in a, b, c; wording 2 (analytics) in c, d; wording 3 (sync) in d, e, f;
        # an unclustered phrase in a, decided by its own example (analytics); one in f fits nothing (other)
        uses = [("a", 1, 1), ("b", 1, 1), ("c", 1, 1), ("c", 2, 1), ("d", 2, 1), ("d", 3, 2), ("e", 3, 2),
                ("f", 3, 2), ("a", 0, 1), ("f", 0, None)]
        for i, (cid, wording, desc) in enumerate(uses):
            con.execute("INSERT INTO pitch_phrases (phrase_id, call_id, turn_idx, text, kind, kind_evidence, embedding, "
                        "cluster_id, descriptor_id, descriptor_method) VALUES (?, ?, 0, 't', 'pitch', '', ?, ?, ?, ?)",
                        [f"p{i}", cid, [0.0] * 384, wording, desc, "other" if desc is None else "example"])
        con.execute("UPDATE clusters SET size = (SELECT count(*) FROM pitch_phrases p "
                    "WHERE p.cluster_id = clusters.cluster_id)")
        con.execute("INSERT INTO reactions VALUES ('r0', 'p0', 'a', 1, 1, 2, 'r', 1.0, 'interested', [], 0.5, false, [], 1, NULL),"
                    " ('r1', 'p3', 'c', 1, 1, 2, 'r', -0.5, 'objection', [], 0.5, false, [], 1, NULL)")
        d = {r[0]: r for r in con.execute(
            "SELECT descriptor, phrases, wordings, calls, calls_with_outcome, interested_calls, interest_rate, "
            "rate_without, lift, rep_adjusted_odds_ratio, p_value, q_value, reaction_interest, other "
            "FROM descriptor_performance").fetchall()}
        w = {r[0]: r for r in con.execute(
            "SELECT cluster_id, descriptor, calls_with_outcome, interest_rate, others_calls_with_outcome, "
            "others_interest_rate, rank_in_descriptor, wordings_in_descriptor, p_value, q_value "
            "FROM wording_performance").fetchall()}
    # analytics: calls a, b, c, d (a, b interested of 4); without it: e (1 of 1)
    assert d["analytics"][1:9] == (6, 2, 4, 4, 2, 0.5, 1.0, 0.5)
    # Mantel-Haenszel over reps: Dana (a, c used: 1 int 1 not; e unused int), Sam (b, d used: 1 int 1 not; f unknown)
    #   Dana: a=1 b=1 c=1 d=0, n=3 -> ad/n = 0, bc/n = 1/3; Sam: a=1 b=1 c=0 d=0 -> 0, 0: 0 / (1/3)
    assert d["analytics"][9] == 0.0
    p_analytics, p_sync = fisher_p(2, 4, 1, 1), fisher_p(1, 2, 2, 3)
    assert d["analytics"][10] == pytest.approx(p_analytics) and d["sync"][10] == pytest.approx(p_sync)
    q = benjamini_hochberg([p_analytics, p_sync])
    assert (d["analytics"][11], d["sync"][11]) == (pytest.approx(q[0]), pytest.approx(q[1]))
    assert d["analytics"][12] == pytest.approx(0.25)  # reactions 1.0 and -0.5
    # sync: calls d, e, f: d not, e interested (f unknown): 1 of 2; without: a, b, c -> 2 of 3
    assert d["sync"][1:9] == (3, 1, 3, 2, 1, 0.5, pytest.approx(2 / 3), pytest.approx(0.75))
    assert d["other"][1:4] == (1, 0, 1) and d["other"][10] is None and d["other"][13] is True
    # wording 1: a, b, c (2 of 3); the descriptor's other wordings alone: d (wording 2 only; c has wording 1)
    assert w[1][1:8] == ("analytics", 3, pytest.approx(2 / 3), 1, 0.0, 1, 2)
    assert w[2][1:8] == ("analytics", 2, 0.0, 2, 1.0, 2, 2)  # c, d; the others: a, b via wording 1 and the loner in a
    assert w[3][1:8] == ("sync", 2, 0.5, 0, None, 1, 1)
    assert w[0][6] is None and w[0][8] is None  # unclustered: shown, not ranked or tested
    ps = [fisher_p(2, 3, 1, 2), fisher_p(0, 2, 3, 3), fisher_p(1, 2, 2, 3)]
    assert [w[c][8] for c in (1, 2, 3)] == [pytest.approx(p) for p in ps]
    assert [w[c][9] for c in (1, 2, 3)] == [pytest.approx(q) for q in benjamini_hochberg(ps)]


# --- review, assign, recluster ---

def test_assign_and_review_via_the_cli(tmp_path, capsys, monkeypatch):
    path = tmp_path / "c.duckdb"
    with db.opened(path) as con:
        corpus(con)
        syncs = con.execute("SELECT cluster_id FROM pitch_phrases WHERE text = ?", [SYNCS]).fetchone()[0]
    monkeypatch.setattr(descriptors_cli, "make_embedder", BagEmbedder)
    csv = tmp_path / "d.csv"
    csv.write_text(CSV)
    assert cli.main(["descriptors", "add", "--db", str(path), "pricing", "pricing starts at ten dollars"]) == 0
    assert "declared pricing (1 example line); every pitch phrase re-assigned: 3 are pricing" in capsys.readouterr().out
    assert cli.main(["descriptors", "assign", str(syncs), "pricing", "--db", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"wording {syncs} is now pricing (confirmed)"
    assert cli.main(["descriptors", "assign", "999", "pricing", "--db", str(path)]) == 2
    assert "no wording cluster 999" in capsys.readouterr().err
    assert cli.main(["descriptors", "assign", str(syncs), "nope", "--db", str(path)]) == 2
    assert "no descriptor 'nope'" in capsys.readouterr().err
    # review without a terminal: answers from stdin, one a line; an empty line keeps (confirms) what it has
    monkeypatch.setattr("sys.stdin", io.StringIO("other\n\n"))
    assert cli.main(["descriptors", "review", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"wording {syncs}" not in out and "“" in out  # a confirmed wording is not asked about again
    assert out.strip().endswith("2 of 2 wordings shown assigned")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli.main(["descriptors", "review", "--all", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "(confirmed by you)" in out and "no more answers: 3 wordings left as they are" in out
    with db.opened(path) as con:
        confirmed = con.execute("SELECT count(*) FROM clusters WHERE descriptor_confirmed").fetchone()[0]
        listing = descriptors_cli.listing(con)
        suggested = descriptors_cli.suggestions(con)
    assert confirmed == 3
    assert "pricing\tdeclared" in listing
    assert suggested.startswith("# ")


def test_recluster_keeps_confirmed_assignments_and_new_phrases_inherit_them(tmp_path):
    with db.opened(tmp_path / "c.duckdb") as con:
        corpus(con)
        descriptors.declare(con, descriptors.parse_csv(CSV), BagEmbedder())
        price = con.execute("SELECT cluster_id FROM pitch_phrases WHERE text = ?", [PRICE]).fetchone()[0]
        descriptors.assign_cluster(con, price, "crm sync")  # a founder's call, against the examples
        cluster.refit(con, keep_ids=True)
        after = con.execute("SELECT DISTINCT p.cluster_id, d.name, p.descriptor_method FROM pitch_phrases p "
                            "JOIN descriptors d USING (descriptor_id) WHERE p.text = ?", [PRICE]).fetchall()
        add_calls(con, {"c8": [PRICE]})
        cluster.update(con)
        new = con.execute("SELECT d.name, p.descriptor_method FROM pitch_phrases p JOIN descriptors d "
                          "USING (descriptor_id) WHERE p.call_id = 'c8'").fetchall()
        history = con.execute("SELECT descriptor_confirmed FROM cluster_history WHERE cluster_id = ?", [price]).fetchall()
    assert after == [(price, "crm sync", "confirmed")]
    assert new == [("crm sync", "confirmed")]
    assert history == [(True,)]


def test_without_declarations_wordings_get_suggested_descriptors_named_from_their_words(tmp_path):
    with db.opened(tmp_path / "c.duckdb") as con:
        corpus(con)
        rows = con.execute("SELECT d.name, count(*) FROM pitch_phrases p JOIN descriptors d USING (descriptor_id) "
                           "WHERE d.source = 'suggested' GROUP BY d.name ORDER BY 2 DESC, 1").fetchall()
        other = con.execute("SELECT count(*) FROM pitch_phrases WHERE descriptor_id IS NULL").fetchone()[0]
    assert other == 0 and sum(n for _, n in rows) == 10
    words = set(" ".join([WATCHED, SYNCS, PRICE]).split())
    assert all(set(name.split()) <= words for name, _ in rows)  # the phrases' own words, never lemmas


def test_an_older_file_keeps_its_clusters_as_descriptors(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:7])
    with db.opened(path) as con:
        con.execute("INSERT INTO calls (call_id, source_file, size_bytes, outcome, speaker_method) "
                    "VALUES ('a', 'a.wav', 1, 'interested', 'channel')")
        con.execute("INSERT INTO clusters (cluster_id, label, size, example, centroid) VALUES "
                    "(1, 'viewer analytic', 1, 'see who watched', ?), (0, 'unclustered', 1, 'hm', ?)",
                    [[0.0] * 384, [0.0] * 384])
        con.execute("INSERT INTO pitch_phrases VALUES ('p1', 'a', 0, 0, 1, 'see who watched', 'pitch', '', ?, 1),"
                    " ('p2', 'a', 0, 0, 1, 'hm hm hm', 'pitch', '', ?, 0)", [[0.0] * 384, [0.0] * 384])
        con.execute("INSERT INTO descriptors VALUES ('p1', 'viewer analytic')")
    monkeypatch.undo()
    with db.opened(path, read_only=True) as con:
        rows = con.execute("SELECT descriptor, source, phrases, wordings, calls FROM descriptor_performance "
                           "ORDER BY descriptor").fetchall()
        terms = con.execute("SELECT * FROM phrase_terms").fetchall()
    assert rows == [("other", "other", 1, 0, 1), ("viewer analytic", "suggested", 1, 1, 1)]
    assert terms == [("p1", "viewer analytic")]


def test_the_board_ranks_a_descriptor_with_too_few_calls_below_those_with_enough(tmp_path):
    from pipeline.analysis.board import board

    calls = {f"w{i}": [WATCHED] for i in range(6)} | {"s1": [SYNCS], "s2": [SYNCS]}
    outcomes = {c: "interested" for c in ("w0", "w1", "w2", "w3", "s1", "s2")} | {"w4": "not_interested",
                                                                                 "w5": "not_interested"}
    with db.opened(tmp_path / "b.duckdb") as con:
        add_calls(con, calls, outcomes=outcomes)
        cluster.update(con)
        descriptors.declare(con, descriptors.parse_csv(CSV), BagEmbedder())
        rows = [(r.name, r.calls_with_outcome, r.interest_rate, r.low_support) for r in board(con).descriptors]
    # crm sync: 2 of 2 calls interested (1.00) but under 5 calls; viewer analytics: 4 of 6 (0.67)
    assert rows[:2] == [("viewer analytics", 6, 4 / 6, False), ("crm sync", 2, 1.0, True)]


# --- analyze, the demo's file ---

def test_analyze_with_a_descriptors_file_assigns_the_new_calls_and_prints_both_levels(tmp_path, capsys):
    from test_analyze import run, stereo_call

    from pipeline.cli import _leaderboard_text

    box = tmp_path / "inbox"
    box.mkdir()
    stereo_call(box / "one.wav", freq=300)
    stereo_call(box / "two.wav", freq=310)
    (box / "outcomes.csv").write_text("file,outcome\none.wav,won\ntwo.wav,lost\n")
    csv = tmp_path / "descriptors.csv"
    csv.write_text("descriptor,example\nviewer analytics,you see who watched your video\n"
                   "crm sync,every view syncs into salesforce\n")
    summary, settings = run(tmp_path, box, outcomes=box / "outcomes.csv", descriptors=csv)
    assert "2 declared descriptors from" in summary.clustering
    with db.opened(settings.db, read_only=True) as con:
        got = con.execute("SELECT p.text, d.name FROM pitch_phrases p JOIN descriptors d USING (descriptor_id) "
                          "WHERE p.kind = 'pitch' ORDER BY p.call_id, p.phrase_id").fetchall()
        text = _leaderboard_text(con, top=3, include_inferred=True)
    assert set(got) == {("You see exactly who watched your video.", "viewer analytics"),
                        ("Every view syncs into Salesforce automatically.", "crm sync")}
    assert text.index("viewer analytics (declared)") > 0 and text.index("crm sync (declared)") > 0
    assert "“You see exactly who watched your video.”" in text  # its wording, under it
    assert "What to test next:" in text


def test_the_demo_descriptors_file_parses():
    from conftest import ROOT

    names = [d.name for d in descriptors.read_csv(ROOT / "data" / "demo" / "descriptors.csv")]
    assert names == ["viewer analytics", "crm sync", "personal video", "ai editor", "lowest price"]

