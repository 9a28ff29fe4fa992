import numpy as np

from pipeline.language.kinds import PITCH, PROTOTYPES, KindClassifier


class PitchLikeEmbedder:
    """Every text gets the same vector as the pitch examples, so only the question rules can say otherwise."""

    def embed(self, texts):
        pitch = set(PROTOTYPES[PITCH])
        return np.array([[1.0, 0.0] if t in pitch else [0.0, 1.0] for t in texts], dtype=np.float32)


def test_open_questions_are_never_pitches_but_statements_like_pitches_are():
    kinds = KindClassifier(PitchLikeEmbedder())
    texts = ["What is the hardest part of selling at Blue Peak?", "How do you track views today?",
             "Did you know you can see who watched?", "You see exactly who watched your video."]
    vectors = np.array([[1.0, 0.0]] * 4, dtype=np.float32)  # all as close to the pitch examples as can be
    got = [k.kind for k in kinds.classify(texts, vectors)]
    assert got[0] != PITCH and got[1] != PITCH
    assert got[2:] == [PITCH, PITCH]  # a yes/no question may still pitch; a statement does


class QuestionMarkEmbedder(PitchLikeEmbedder):
    """As above, but a text ending in "?" points between the kinds (nearer the pitch examples by less than the
    question margin) and the same text ending in "." points at the pitch examples, as MiniLM's do roughly."""

    def embed(self, texts):
        out = super().embed(texts)
        for i, t in enumerate(texts):
            if t not in PROTOTYPES[PITCH] and not any(t in ex for ex in PROTOTYPES.values()):
                out[i] = [0.73, 0.68] if t.endswith("?") else [1.0, 0.0]
        return out


def test_a_statement_that_speech_recognition_ends_with_a_question_mark_stays_a_pitch():
    kinds = KindClassifier(QuestionMarkEmbedder())
    texts = ["You see exactly who watched your video and for how long?",  # a statement, whatever its "?"
             "So, what are you using today?",  # an open question after a lead-in: never a pitch
             "And does your team track views today?"]  # a yes/no question: still pays the margin
    vectors = QuestionMarkEmbedder().embed(texts)  # nearer the pitch examples by less than the margin
    got = [k.kind for k in kinds.classify(texts, vectors)]
    assert got[0] == PITCH
    assert got[1] != PITCH
    assert got[2] != PITCH


def test_a_question_after_an_adverb_is_a_question():
    """"Roughly how many invoices do you send in a month?" was a rising statement, so a pitch (a telephone set's
    discovery question on the leaderboard); after an adverb in -ly the wh-word or auxiliary still opens it."""
    kinds = KindClassifier(QuestionMarkEmbedder())
    texts = ["Roughly how many invoices do you send in a month?", "Honestly, is that a problem for you today?",
             "Currently which tool handles that?", "Only ten minutes to set up?", "It's really that easy, honestly?"]
    got = [k.kind for k in kinds.classify(texts, QuestionMarkEmbedder().embed(texts))]
    assert got[0] != PITCH and got[1] != PITCH and got[2] != PITCH
    assert got[3:] == [PITCH, PITCH]  # no wh-word or auxiliary after the adverb: statements said rising


def test_a_question_without_its_question_mark_is_still_a_question():
    """Speech recognition drops a question's "?" or cuts it short ("Roughly how many invoices do you send in a",
    a telephone set's discovery question, was a pitch); a wh-word then an auxiliary before a pronoun still asks."""
    kinds = KindClassifier(PitchLikeEmbedder())
    texts = ["Roughly how many invoices do you send in a", "So how do you chase late payers today",
             "What you get is a forecast for the next ninety days.", "How it works is simple, you paste one line.",
             "Which means your team never types a payment again."]
    vectors = np.array([[1.0, 0.0]] * len(texts), dtype=np.float32)  # all as close to the pitch examples as can be
    got = [k.kind for k in kinds.classify(texts, vectors)]
    assert got[0] != PITCH and got[1] != PITCH
    assert got[2:] == [PITCH, PITCH, PITCH]  # statements that open with a wh-word


def test_a_rising_statement_is_compared_as_the_statement_it_is():
    """Its "?" alone pulled "You see exactly who watched your video and for how long?" to discovery (real MiniLM,
    tests/test_e2e.py); its vector is that of the text ending in "." (the fake embedder makes that a pitch)."""
    kinds = KindClassifier(QuestionMarkEmbedder())
    text = ["You see exactly who watched your video and for how long?"]
    as_given = np.array([[0.0, 1.0]], dtype=np.float32)  # as far from the pitch examples as can be
    assert kinds.classify(text, as_given)[0].kind == PITCH
    assert kinds.classify(["Do you see who watched your video?"], as_given)[0].kind != PITCH  # a real question


def test_declared_example_lines_are_pitch_examples():
    class Embedder:  # pitch examples, the other kinds' examples and the declared line: three directions
        def embed(self, texts):
            pitch = set(PROTOTYPES[PITCH])
            return np.array([[0.0, 0.0, 1.0] if "book now" in t else [1.0, 0.0, 0.0] if t in pitch else [0.0, 1.0, 0.0]
                             for t in texts], dtype=np.float32)

    phrase = ["There's a book now button right on your listing."]
    vector = np.array([[0.0, 0.2, 0.98]], dtype=np.float32)  # near the declared line, a little near the other kinds
    assert KindClassifier(Embedder()).classify(phrase, vector)[0].kind != PITCH
    assert KindClassifier(Embedder(), pitch_examples=["Customers tap book now on your site."]) \
        .classify(phrase, vector)[0].kind == PITCH


def test_analyze_takes_the_declared_example_lines_of_its_descriptors_file(tmp_path):
    from pipeline.analyze import Models
    from pipeline.core.settings import Settings

    (tmp_path / "d.csv").write_text("descriptor,example\nonline booking,Customers tap book now on your site.\n")
    models = Models(Settings(inbox=tmp_path, db=tmp_path / "c.duckdb", descriptors=tmp_path / "d.csv"))
    models.__dict__["embedder"] = PitchLikeEmbedder()  # instead of loading MiniLM
    assert "Customers tap book now on your site." in models.kinds.texts
    assert models.kinds.labels[models.kinds.texts.index("Customers tap book now on your site.")] == PITCH
