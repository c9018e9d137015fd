"""The search box's text: which search it asks for (core/search.py), its full-text query and the suffix hash."""
import pytest

from core.search import (InvalidSearch, SearchMode, classify, fulltext_query, id_suffix, name_terms, plain_words,
                         suffix_hash)


@pytest.mark.parametrize("text, mode, value", [
    ("1234", SearchMode.ID_SUFFIX, "1234"),
    ("123x", SearchMode.ID_SUFFIX, "123X"),
    (" 123X ", SearchMode.ID_SUFFIX, "123X"),
    ("１２３４", SearchMode.ID_SUFFIX, "1234"),          # full-width digits
    ("433123", SearchMode.HOUSEHOLD_PREFIX, "433123"),
    ("123", SearchMode.HOUSEHOLD_PREFIX, "123"),
    ("12345", SearchMode.HOUSEHOLD_PREFIX, "12345"),
    ("4331230101010001", SearchMode.HOUSEHOLD_PREFIX, "4331230101010001"),
    ("张三丰", SearchMode.NAME, "张三丰"),
    ("张", SearchMode.NAME, "张"),
    ("阿依古丽·买买提", SearchMode.NAME, "阿依古丽·买买提"),
    ("Zhang  San", SearchMode.NAME, "Zhang San"),
])
def test_classify(text, mode, value):
    found = classify(text)
    assert (found.mode, found.text) == (mode, value)
    assert found.personal == (mode != SearchMode.HOUSEHOLD_PREFIX)


@pytest.mark.parametrize("text", [None, "", "   ", "\u3000"])
def test_empty_box_is_no_search(text):
    assert classify(text) is None


@pytest.mark.parametrize("text", ["12X4", "X123", "张3", "a;b", "name:x", '"张"', "张*", "(王)", "1" * 21,
                                  "张" * 31, "王 OR 李:"])
def test_unreadable_text_is_refused_in_chinese(text):
    with pytest.raises(InvalidSearch, match="搜索"):
        classify(text)


def test_name_terms_are_phrases_and_a_single_ideograph_a_prefix():
    assert name_terms("张三丰") == ['"张三丰"']
    assert name_terms("张") == ["张*"]
    assert name_terms("阿依古丽·买买提") == ['"阿依古丽"', '"买买提"']
    assert name_terms("Zhang San") == ['"zhang"', '"san"']


def test_fulltext_query_names_the_county_and_refuses_other_values():
    assert (fulltext_query("head_name", "张三", {"county_code": "433123000000"})
            == 'head_name:"张三" AND county_code:"433123000000"')
    assert fulltext_query("head_name", "张") == "head_name:张*"
    with pytest.raises(ValueError):
        fulltext_query("head_name", "张三", {"county_code": '4" OR x:"1'})


def test_enterprise_words_read_punctuation_as_spaces():
    assert plain_words("湘西（凤凰）农业") == "湘西 凤凰 农业"
    assert plain_words("  ") is None
    with pytest.raises(InvalidSearch):
        plain_words("（）")


def test_suffix_hash_is_keyed_and_never_the_digits():
    one, other = suffix_hash("123x", b"key-one"), suffix_hash("123X", b"key-one")
    assert one == other and len(one) == 64 and "123" not in one
    assert suffix_hash("123X", b"key-two") != one
    assert id_suffix("43312319800101123x") == "123X"
    assert id_suffix("12") is None and id_suffix(None) is None


def test_the_documented_pattern_admits_exactly_what_is_answered():
    """The API documents q with QUERY_PATTERN: what it admits, classify answers; some of what it refuses."""
    import re as _re

    from core.search import QUERY_PATTERN, InvalidSearch, classify
    pattern = _re.compile(QUERY_PATTERN)
    for text in ("张三丰", "张", "阿卜杜·热合曼", "Li Lei", "4331231012", "0123", "123X", "123x", "１２３Ｘ", "１２３４",
                 "　王　五"):
        assert pattern.fullmatch(text), text
        assert classify(text) is not None, text
    for text in ("a;b", "' OR 1=1 //", "张3", "$household_id", "`Household`", " · ", "0\u0000", "12-34"):
        assert not pattern.fullmatch(text), text
        try:
            classify(text)
        except InvalidSearch:
            pass
