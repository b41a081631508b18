"""The array types of the simulation, and the scales its integers are held in.

Amounts are int64 minor units; rates are int64 millionths (``180000`` is 18 %), the places of
:data:`plans.policy.RATE_PLACES`. Payments are monthly, so a plan's rate per period is the
annual rate over ``MONTH_RATE_SCALE``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from plans.calendar import Frequency
from plans.policy import RATE_PLACES

Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

RATE_SCALE = 10**RATE_PLACES
PERIODS_PER_YEAR = Frequency.MONTHLY.periods_per_year
MONTH_RATE_SCALE = RATE_SCALE * PERIODS_PER_YEAR


def put_columns(into: Int64Array, columns: Int64Array, values: Int64Array | int) -> None:
    """``into[:len(values), columns] = values`` (or every row ``= values`` for a number), row
    by row: numpy scatters into one row of a C-ordered matrix about twice as fast as into the
    columns of a block of rows.

    Examples
    --------
    >>> flows = np.zeros((3, 4), dtype=np.int64)
    >>> put_columns(flows, np.array([1, 3]), np.array([[5, 6], [7, 8]]))
    >>> flows.tolist()
    [[0, 5, 0, 6], [0, 7, 0, 8], [0, 0, 0, 0]]
    """
    if isinstance(values, int):
        for row in into:
            row[columns] = values
        return
    for row, line in zip(into, values, strict=False):
        row[columns] = line
