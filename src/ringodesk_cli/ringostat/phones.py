"""Phone numbers from Ringostat call logs, normalised to E.164 with Google's libphonenumber.

Ringostat writes numbers however the carrier or the web interface gave them: ``380671234567``,
``0671234567``, ``+38 (067) 123-45-67``. Zoho Desk keeps whatever the agent typed. Comparing
the E.164 forms is the only way to match a caller to a contact without duplicates (HubSpot's
Ringostat integration duplicates contacts unless numbers are international, as its own
documentation warns).

On outbound calls ``caller`` may be a SIP account written ``"name" <login>``: that is an
employee, never a phone number.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

# A SIP account as Ringostat writes it on outbound calls: `"Ivan" <ivan_sip>`, `<ivan_sip>`,
# `sip:ivan@pbx.example`, or a bare login with letters.
_SIP_WRAPPED = re.compile(r'^\s*(?:"(?P<name>[^"]*)"|(?P<bare>[^<"]*?))\s*<(?P<login>[^>]*)>\s*$')
_LETTERS = re.compile(r"[^\W\d]", re.UNICODE)
_PHONE_CHARS = re.compile(r"^[\d\s()+\-./]+$")
_DIGITS = re.compile(r"\D")


@lru_cache(maxsize=4096)
def split_sip(raw: str) -> tuple[str | None, str] | None:
    """Return ``(display name, login)`` when ``raw`` is a SIP account, else ``None``.

    ``"Ivan" <ivan_sip>`` -> ``("Ivan", "ivan_sip")``; ``sip:ivan@pbx`` -> ``(None, "ivan")``;
    ``ivan_sip`` -> ``(None, "ivan_sip")``; ``+380671234567`` -> ``None``.
    """
    text = raw.strip()
    if not text:
        return None
    match = _SIP_WRAPPED.match(text)
    if match:
        name = (match.group("name") or match.group("bare") or "").strip() or None
        login = _strip_sip_uri(match.group("login").strip())
        if login and not _looks_like_phone(login):
            return name, login
        return None
    if text.lower().startswith("sip:") or "@" in text or _LETTERS.search(text):
        login = _strip_sip_uri(text)
        return (None, login) if login else None
    return None


def _strip_sip_uri(text: str) -> str:
    if text.lower().startswith("sip:"):
        text = text[4:]
    return text.split("@", 1)[0].strip()


def _looks_like_phone(text: str) -> bool:
    return bool(_PHONE_CHARS.match(text)) and len(_DIGITS.sub("", text)) >= 5


def to_e164(raw: str, default_region: str) -> str:
    """Normalise ``raw`` to E.164 (``+380671234567``); raise ``ValueError`` when it is not one.

    Numbers without a country code are read in ``default_region`` (``ringostat.default_region``).
    A number that already carries its country code but no ``+`` (``380671234567``, common in
    Ringostat exports) is accepted in any region. SIP logins are refused, so that an outbound
    caller like ``"Ivan" <ivan_sip>`` never becomes a client number.
    """
    return _to_e164_text(str(raw), default_region)


# The same raw text comes back on most rows (our own numbers, repeat callers): remember the
# answer for the text as written, before any normalising (errors are not cached). Small: the
# digit-keyed cache below does the heavy lifting, this one only skips re-normalising.
@lru_cache(maxsize=1024)
def _to_e164_text(raw: str, default_region: str) -> str:
    text = raw.strip()
    if not text:
        raise ValueError("the number is empty")
    if split_sip(text) is not None:
        raise ValueError(f"{text!r} is a SIP account, not a phone number")
    if any(c in text for c in "\n\r\t"):
        # A line break inside a number is a broken export row, not formatting.
        raise ValueError(f"{text!r} is not a phone number")
    if _PHONE_CHARS.match(text):
        # One cache entry per number, whatever its punctuation: "+38 (067) 123-45-67" and
        # "+380671234567" parse the same (only a leading + or 00 changes the meaning).
        prefix = "+" if text.startswith("+") else ""
        key = prefix + _DIGITS.sub("", text)
    else:
        key = text
    try:
        return _to_e164_cached(key, default_region.upper())
    except ValueError:
        raise ValueError(f"{text!r} is not a phone number") from None


# Repeat callers are the norm in call logs; parsing dominates the reader's time, so cache it.
@lru_cache(maxsize=8192)
def _to_e164_cached(text: str, region: str) -> str:
    if not _PHONE_CHARS.match(text):
        raise ValueError(f"{text!r} is not a phone number")
    return _fast_e164(text, region) or _parse_e164(text, region)


@lru_cache(maxsize=512)
def _shape(region: str) -> tuple[int, str | None, re.Pattern[str], frozenset[int]]:
    """(country code, national prefix, national number pattern, possible lengths) of a
    region, from libphonenumber's own metadata."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    pattern = meta.general_desc.national_number_pattern if meta and meta.general_desc else None
    if meta is None or meta.general_desc is None or not pattern:
        raise KeyError(region)
    # A national prefix that needs rules to strip (`national_prefix_for_parsing`) is left to
    # the full parser.
    rule = meta.national_prefix_for_parsing
    plain = rule in (None, meta.national_prefix) and not meta.national_prefix_transform_rule
    simple = meta.national_prefix if plain else None
    lengths = frozenset(meta.general_desc.possible_length or ())
    return int(meta.country_code or 0), simple, re.compile(str(pattern)), lengths


def _fast_e164(key: str, region: str) -> str | None:
    """The shapes exports are mostly made of — ``+<country code><number>``, and in the
    default region ``<national prefix><number>`` or ``<country code><number>`` — checked
    against libphonenumber's
    metadata (the general pattern and possible lengths) without a full parse, which costs
    ~50 µs a number (the dry run's local overhead). Returns what ``_parse_e164`` would, or
    ``None`` to let it decide (a test holds the two to each other)."""
    try:
        if key.startswith("+"):
            digits = key[1:]
            if digits.startswith("0"):
                # No country code starts with 0: `+012...` is not `+1 2...` (libphonenumber
                # refuses it), so the full parser decides.
                return None
            for size in (1, 2, 3):
                head = digits[:size]
                regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(head)) if head else None
                if regions:
                    national = digits[size:]
                    if any(_fits(r, national) for r in regions):
                        return f"+{head}{national}"
                    return None
            return None
        code, prefix, _, lengths = _shape(region)
        if prefix and key.startswith(prefix) and not key.startswith("00"):
            national = key[len(prefix) :]
            return f"+{code}{national}" if _fits(region, national) else None
        # `380671234567`: the region's own country code without `+`, too long to be a
        # national number (the parser strips the code only then, or when the rest is valid).
        if key.startswith(str(code)) and len(key) not in lengths:
            national = key[len(str(code)) :]
            return f"+{code}{national}" if _fits(region, national) else None
    except KeyError:
        return None
    return None


def _fits(region: str, national: str) -> bool:
    if region == "001":  # non-geographic entities: leave them to the full parser
        return False
    _, _, pattern, lengths = _shape(region)
    return bool(national) and len(national) in lengths and bool(pattern.fullmatch(national))


def _parse_e164(text: str, region: str) -> str:
    candidates = [text]
    digits = _DIGITS.sub("", text)
    if not text.startswith("+") and not text.startswith("00"):
        # `380671234567` read in region PL is a Polish national number otherwise.
        candidates.append("+" + digits)
    possible: str | None = None
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(number):
            return str(formatted)
        if possible is None and phonenumbers.is_possible_number(number):
            possible = str(formatted)
    # A possible-but-not-valid number may be a range newer than the library's metadata:
    # better a slightly odd contact than a quarantined call.
    if possible is not None:
        return possible
    raise ValueError(f"{text!r} is not a phone number")


def same_number(a: str, b: str, default_region: str) -> bool:
    """True when ``a`` and ``b`` are the same phone number once normalised.

    Used to verify Zoho's phone search hits, whose matching is fuzzy. Values that are not
    phone numbers (an extension, a SIP login) compare by their digits, never equal when empty.
    """
    try:
        return to_e164(a, default_region) == to_e164(b, default_region)
    except ValueError:
        pass
    left, right = _DIGITS.sub("", str(a)), _DIGITS.sub("", str(b))
    if left and right:
        return left == right
    return bool(str(a).strip()) and str(a).strip().casefold() == str(b).strip().casefold()
