"""The reaction scorer must not regress below its recorded held-out macro-F1 (README: 0.78)."""

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import eval_reactions  # noqa: E402

from pipeline import reactions  # noqa: E402
from pipeline.embed import MiniLMEmbedder  # noqa: E402

RECORDED = 0.78
MARGIN = 0.03


@pytest.mark.e2e
def test_heldout_macro_f1_holds_the_recorded_figure():
    heldout = reactions.load_examples(ROOT / "tests" / "data" / "reactions_heldout.csv")
    train = reactions.load_examples()
    assert len(heldout) == 120 and not {t for t, _ in heldout} & {t for t, _ in train}
    assert eval_reactions.evaluate(MiniLMEmbedder(), train, heldout) >= RECORDED - MARGIN


def test_macro_f1_arithmetic():
    truth = ["interested", "interested", "neutral", "objection"]
    predicted = ["interested", "neutral", "neutral", "objection"]
    # interested F1 2/3, neutral 2/3, objection 1
    assert eval_reactions.macro_f1(truth, predicted) == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
