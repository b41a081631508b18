"""How personal data leaves the service: masked, never in clear.

A name keeps its initials, a number its country code and last two digits, an email address its
first letter and its domain. Pages, API answers, audit payloads and log lines all use these;
only an audited reveal shows a party's details in clear.
"""

from __future__ import annotations

from plans.contact import Channel


def _is_cjk(char: str) -> bool:
    # Han (with extensions A to G and compatibility ideographs), kana and Hangul: scripts
    # whose names are written without spaces, where a "word" is the whole name.
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
        or 0x3040 <= code <= 0x30FF
        or 0xAC00 <= code <= 0xD7AF
    )


def mask_name(name: str) -> str:
    """A name with all but its initial letters replaced by ``*``.

    A name with a CJK character keeps its first and last characters (its spaces dropped, as a
    Chinese name is one word); two characters keep only the first, one keeps none. Any other
    name keeps the first character of each word, words separated by single spaces. The length
    of each word is kept, so the page reads naturally, and nothing else of the name survives.

    Parameters
    ----------
    name : str
        The debtor's name as stored.

    Returns
    -------
    str
        The masked name; ``"*"`` for an empty or blank name.

    Examples
    --------
    >>> mask_name("张三"), mask_name("张小明"), mask_name("欧阳小明")
    ('张*', '张*明', '欧**明')
    >>> mask_name("John Smith"), mask_name("  "), mask_name("张")
    ('J*** S****', '*', '*')
    """
    words = name.split()
    if not words:
        return "*"
    if any(_is_cjk(char) for char in name):
        whole = "".join(words)
        if len(whole) == 1:
            return "*"
        if len(whole) == 2:
            return whole[0] + "*"
        return whole[0] + "*" * (len(whole) - 2) + whole[-1]
    return " ".join(word[0] + "*" * (len(word) - 1) for word in words)


# ITU-T E.164 country codes of one and two digits (Annex to ITU-T Operational Bulletin
# No. 1253, "List of ITU-T Recommendation E.164 assigned country codes"); every other code
# has three digits.
_TWO_DIGIT_CODES = frozenset(
    {
        "20",
        "27",
        "30",
        "31",
        "32",
        "33",
        "34",
        "36",
        "39",
        "40",
        "41",
        "43",
        "44",
        "45",
        "46",
        "47",
        "48",
        "49",
        "51",
        "52",
        "53",
        "54",
        "55",
        "56",
        "57",
        "58",
        "60",
        "61",
        "62",
        "63",
        "64",
        "65",
        "66",
        "81",
        "82",
        "84",
        "86",
        "90",
        "91",
        "92",
        "93",
        "94",
        "95",
        "98",
    }
)


def mask_number(number: str) -> str:
    """An E.164 number with its country code and last 2 digits, the rest starred.

    Examples
    --------
    >>> mask_number("+8613800138000"), mask_number("+12125550123"), mask_number("+35312345678")
    ('+86 *********00', '+1 ********23', '+353 ******78')
    """
    digits = number.removeprefix("+")
    size = 1 if digits[0] in "17" else 2 if digits[:2] in _TWO_DIGIT_CODES else 3
    code, rest = digits[:size], digits[size:]
    return f"+{code} " + "*" * (len(rest) - 2) + rest[-2:]


def mask_email(address: str) -> str:
    """An email address as its first letter and its domain.

    Examples
    --------
    >>> mask_email("zhang.xiaoming@example.cn")
    'z***@example.cn'
    """
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def masked_channels(channels: dict[str, str]) -> dict[str, str | None]:
    """Every channel of a party, masked (None where not given)."""
    return {
        c.value: None
        if channels.get(c.value) is None
        else (mask_email if c is Channel.EMAIL else mask_number)(channels[c.value])
        for c in Channel
    }
