"""Phone numbers from call logs: E.164 normalisation, SIP logins kept out, comparisons."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ringodesk_cli.ringostat.phones import same_number, split_sip, to_e164


@pytest.mark.parametrize(
    "raw",
    [
        "0671234567",
        "380671234567",
        "+380671234567",
        "+38 (067) 123-45-67",
        "38 067 123 45 67",
        "00380671234567",
        " 067-123-45-67 ",
    ],
)
def test_ukrainian_number_in_any_common_format_becomes_e164(raw: str) -> None:
    assert to_e164(raw, "UA") == "+380671234567"


def test_landline_without_country_code_is_read_in_the_default_region() -> None:
    assert to_e164("0442223344", "UA") == "+380442223344"


def test_number_with_country_code_but_no_plus_is_accepted_in_another_region() -> None:
    assert to_e164("380671234567", "PL") == "+380671234567"


def test_national_number_follows_the_default_region() -> None:
    assert to_e164("612345678", "PL") == "+48612345678"


@pytest.mark.parametrize("raw", ["", "   ", "12", "+38 (067) 12", "abc", "067-ABC-45-67", "101"])
def test_junk_is_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(ValueError, match=r"not a phone number|is empty|SIP"):
        to_e164(raw, "UA")


@pytest.mark.parametrize(
    "raw", ['"Ivan" <ivan_sip>', "<ivan_sip>", "sip:ivan@pbx.example", "ivan_sip"]
)
def test_sip_login_is_never_taken_for_a_phone_number(raw: str) -> None:
    with pytest.raises(ValueError, match="SIP account"):
        to_e164(raw, "UA")


def test_split_sip_returns_display_name_and_login() -> None:
    assert split_sip('"Іван Петренко" <ivan_sip>') == ("Іван Петренко", "ivan_sip")
    assert split_sip("<ivan_sip>") == (None, "ivan_sip")
    assert split_sip("sip:ivan@pbx.example") == (None, "ivan")
    assert split_sip("anna_sip") == (None, "anna_sip")


def test_split_sip_leaves_phone_numbers_alone() -> None:
    assert split_sip("+38 (067) 123-45-67") is None
    assert split_sip("0671234567") is None
    assert split_sip('"Office" <+380671234567>') is None
    assert split_sip("") is None


def test_same_number_compares_normalised_forms() -> None:
    assert same_number("+38 (067) 123-45-67", "0671234567", "UA")
    assert same_number("380671234567", "+380671234567", "PL")
    assert not same_number("0671234567", "0671234568", "UA")


def test_same_number_falls_back_to_digits_and_never_matches_empty() -> None:
    assert same_number("101", " 101 ", "UA")
    assert not same_number("", "", "UA")
    assert not same_number("101", "102", "UA")


@given(
    subscriber=st.integers(min_value=0, max_value=9_999_999),
    operator=st.sampled_from(["50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "99"]),
    style=st.sampled_from(
        ["0{op}{sub}", "380{op}{sub}", "+380{op}{sub}", "+38 (0{op}) {a}-{b}-{c}", "00380{op}{sub}"]
    ),
)
def test_every_written_form_of_a_mobile_number_normalises_to_one_e164(
    subscriber: int, operator: str, style: str
) -> None:
    sub = f"{subscriber:07d}"
    raw = style.format(op=operator, sub=sub, a=sub[:3], b=sub[3:5], c=sub[5:])
    expected = f"+380{operator}{sub}"
    assert to_e164(raw, "UA") == expected
    assert to_e164(expected, "UA") == expected
    # Forms carrying the country code need no default region to be right.
    other_region = "UA" if style.startswith("0{op}") else "PL"
    assert same_number(raw, expected, other_region)


@settings(max_examples=400, deadline=None)
# Found by this test: `+012...` was read as country code 1 (`01` -> 1) by the fast path.
@example(shape="+", rest="012000000000", region="UA")
@example(shape="+", rest="0380671234567", region="UA")
@given(
    shape=st.sampled_from(["+380", "+38", "+1", "+44", "+49", "+7", "0", "380", "00380", "+"]),
    rest=st.text(alphabet="0123456789", min_size=0, max_size=13),
    region=st.sampled_from(["UA", "PL", "US", "GB", "DE", "RU"]),
)
def test_the_fast_path_agrees_with_the_full_parser(shape: str, rest: str, region: str) -> None:
    """`_fast_e164` skips libphonenumber's parse for the common shapes; whenever it answers,
    the answer must be the full parser's."""
    from ringodesk_cli.ringostat.phones import _fast_e164, _parse_e164

    key = shape + rest
    fast = _fast_e164(key, region)
    if fast is None:
        return
    assert fast == _parse_e164(key, region)


@pytest.mark.parametrize("raw", ["+012000000000", "+0380671234567"])
def test_no_country_code_starts_with_zero(raw: str) -> None:
    from ringodesk_cli.ringostat.phones import _fast_e164

    assert _fast_e164(raw, "UA") is None
    with pytest.raises(ValueError, match="not a phone number"):
        to_e164(raw, "UA")


def test_the_fast_path_takes_the_usual_shapes() -> None:
    from ringodesk_cli.ringostat.phones import _fast_e164

    assert _fast_e164("+380671234567", "UA") == "+380671234567"
    assert _fast_e164("0671234567", "UA") == "+380671234567"
    assert _fast_e164("+38067123", "UA") is None  # too short: the full parser decides
