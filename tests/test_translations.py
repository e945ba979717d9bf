"""Every message the portal shows exists in Simplified Chinese, with the same placeholders.

The catalogue is extracted afresh from the code and templates, so a new English string
without its translation fails here, not in front of a user.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from tests.support import ROOT

PO = ROOT / "portal/translations/zh_Hans/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted(tmp_path: Path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "N_",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return read_po(handle)


def test_every_message_has_a_chinese_translation(tmp_path):
    with PO.open("rb") as handle:
        catalogue = read_po(handle)
    missing, fuzzy, wrong = [], [], []
    for message in extracted(tmp_path):
        if not message.id:
            continue
        translated = catalogue.get(message.id)
        if translated is None or not all(
            translated.string if isinstance(translated.string, tuple) else [translated.string]
        ):
            missing.append(message.id)
            continue
        if translated.fuzzy:
            fuzzy.append(message.id)
        source = message.id if isinstance(message.id, tuple) else (message.id,)
        target = translated.string if isinstance(translated.string, tuple) else (translated.string,)
        wanted = set().union(*(PLACEHOLDER.findall(s) for s in source))
        for text in target:
            if set(PLACEHOLDER.findall(text)) != wanted:
                wrong.append((message.id, text))
    assert not missing, (
        f"{len(missing)} messages lack a translation (run `make translations`): {missing[:10]}"
    )
    assert not fuzzy, f"fuzzy translations: {fuzzy[:10]}"
    assert not wrong, f"placeholders differ: {wrong[:10]}"
