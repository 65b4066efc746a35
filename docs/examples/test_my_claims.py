"""The claims of my_claims.py as pytest tests."""

import pytest
from my_claims import lemma2, lemma2_draft

from featcheck.testing import ClaimFailed, assert_claim_holds


def test_lemma2_holds():
    assert_claim_holds(lemma2)


def test_the_draft_is_caught():
    with pytest.raises(ClaimFailed, match=r"counterexample: k=1, m=0\.3"):
        assert_claim_holds(lemma2_draft)
