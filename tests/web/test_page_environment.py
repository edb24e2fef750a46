"""The pages' Jinja environment reads a dict's fields as keys first, and means the same as Jinja."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment

from arrears.web.app import _env


def test_a_dict_field_a_dict_method_and_a_missing_field() -> None:
    env = _env()
    row = {"seq": 3, "items": "a field named like a method", "get": 7}
    out = env.from_string(
        "{{ row.seq }}|{{ row.items()|list|length }}|{{ row.get('seq') }}|"
        "{{ row.missing is undefined }}|{{ row['items'] }}"
    ).render(row=row)
    assert out == "3|3|3|True|a field named like a method"


def test_objects_and_escaping_are_untouched() -> None:
    class Row:
        seq = 5
        note = "<b>"

    out = (
        _env()
        .from_string("{{ row.seq }} {{ row.note }} {{ d.note }}")
        .render(row=Row(), d={"note": "<i>"})
    )
    assert out == "5 &lt;b&gt; &lt;i&gt;"


names = st.one_of(
    st.sampled_from(sorted(n for n in dir(dict) if not n.startswith("_"))),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
)


@given(st.dictionaries(names, st.integers(), max_size=6), names)
def test_same_answer_as_plain_jinja(row: dict[str, int], name: str) -> None:
    """Any field, present or not, named like a dict method or not: the same text as Jinja's."""
    source = "{{ (row.%s is defined) and (row.%s is not callable) and row.%s }}" % ((name,) * 3)
    plain = Environment(autoescape=True).from_string(source).render(row=row)
    assert _env().from_string(source).render(row=row) == plain
