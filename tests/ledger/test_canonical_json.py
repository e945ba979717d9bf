"""The fast JCS writer gives exactly the `rfc8785` package's bytes for every entry value."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.entry import canonical_json

SAFE = 2**53 - 1
# Every kind of text JCS treats specially: controls, quotes, backslashes, DEL, U+2028,
# characters above U+FFFF (whose UTF-16 order differs from code point order), U+E000-U+FFFF.
tricky_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\ue000", "\uffff", "😀"]),
    ),
    max_size=12,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-SAFE, SAFE) | tricky_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(tricky_text, json_values, max_size=6))
def test_canonical_json_is_rfc8785(document):
    assert canonical_json(document) == rfc8785.dumps(document)


def test_keys_beyond_the_basic_plane_sort_by_utf16_code_units():
    # Code point order puts U+E000 first; UTF-16 order puts the surrogate pair of U+1F600 first.
    document = {"\ue000": 1, "😀": 2}
    assert canonical_json(document) == rfc8785.dumps(document)
    assert canonical_json(document).index("😀".encode()) < canonical_json(document).index(
        "\ue000".encode()
    )
