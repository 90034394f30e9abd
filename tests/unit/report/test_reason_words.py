"""Every reason category the classifier can count has words the email shows a reader."""

import pytest

from responsegap.domain.automation import reason_category
from responsegap.report.render import REASON_WORDS

REASONS = [
    "posted with IFTTT, an automation app",
    "posted by a configured bot account",
    "same text sent to 6 different customers",
    "replied 2 s after the post, faster than a person can read and type",
    "an acknowledgement or out-of-hours notice ('we have received your message')",
    "campaign reply #TrickorTweet that ignores what the customer wrote",
    "corrected by the brand",
]


@pytest.mark.parametrize("reason", REASONS)
def test_each_reason_category_has_words(reason):
    category = reason_category(reason)
    assert category is not None
    assert REASON_WORDS[category] != category
