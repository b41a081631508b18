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
