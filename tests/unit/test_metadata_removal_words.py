"""The guardian reads the same words for a file's hidden information whether the server wrote the
page (whistle.words) or their device did (static/js/hidden-info.js, for files cleaned on a reporter's
device)."""
from __future__ import annotations

import re
from pathlib import Path

from whistle.attachments.services import METADATA_OUTCOMES
from whistle.words import METADATA_REMOVAL_WORDS

HIDDEN_INFO_JS = Path(__file__).resolve().parents[2] / "whistle" / "static" / "js" / "hidden-info.js"


def test_the_browser_and_the_server_say_the_same_for_every_outcome():
    block = re.search(r"REMOVAL_WORDS = \{(.*?)\};", HIDDEN_INFO_JS.read_text(), re.DOTALL)
    assert block is not None
    # Each in the page's language: `outcome: t("English words"),` (static/js/i18n.js).
    in_js = dict(re.findall(r'^\s*(\w+): t\("([^"]*)"\),$', block.group(1), re.MULTILINE))
    assert in_js == METADATA_REMOVAL_WORDS
    assert set(METADATA_REMOVAL_WORDS) == set(METADATA_OUTCOMES)
