"""Day-count conventions: the fraction of a year between two dates.

ACT/365F is the default (what Chinese and British consumer lending use); ACT/360 and 30/360
(the US bond basis of ISDA 2006 §4.16(f)) are available. Fractions are exact rationals so that
interest computed from them rounds once, at the end.
"""

from __future__ import annotations

import enum
from datetime import date
from fractions import Fraction


class DayCount(enum.StrEnum):
    """A named convention for measuring time between two dates in years."""

    ACT_365F = "ACT/365F"
    ACT_360 = "ACT/360"
    THIRTY_360 = "30/360"


def day_count(start: date, end: date, convention: DayCount) -> int:
    """Days between ``start`` and ``end`` as ``convention`` counts them.

    Examples
    --------
    >>> day_count(date(2026, 1, 31), date(2026, 2, 28), DayCount.THIRTY_360)
    28
    >>> day_count(date(2026, 1, 31), date(2026, 3, 31), DayCount.THIRTY_360)
    60
    """
    if convention is not DayCount.THIRTY_360:
        return (end - start).days
    d1, d2 = start.day, end.day
    # 30/360 bond basis (ISDA 2006 §4.16(f)): a 31st counts as the 30th, the end date's only
    # when the start date is the 30th or 31st.
    if d1 == 31:
        d1 = 30
    if d2 == 31 and d1 == 30:
        d2 = 30
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def year_fraction(start: date, end: date, convention: DayCount) -> Fraction:
    """Years between ``start`` and ``end`` under ``convention``, as an exact fraction.

    Examples
    --------
    >>> year_fraction(date(2026, 1, 1), date(2026, 7, 1), DayCount.ACT_365F)
    Fraction(181, 365)
    >>> year_fraction(date(2026, 1, 1), date(2026, 7, 1), DayCount.ACT_360)
    Fraction(181, 360)
    """
    basis = 365 if convention is DayCount.ACT_365F else 360
    return Fraction(day_count(start, end, convention), basis)
