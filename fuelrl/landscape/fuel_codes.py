"""The fuel model codes a landscape may hold, for validating rasters.

The code sets come from :mod:`fuelrl.physics.fuel_models`, which owns the fuel model tables
(Scott & Burgan 2005, RMRS-GTR-153: 101-204; Anderson 1982, INT-122: 1-13; non-burnable NB1 91,
NB2 92, NB3 93, NB8 98, NB9 99). Code 0 means "no fuel model" and is read as nodata.
"""

from __future__ import annotations

from fuelrl.physics.fuel_models import KNOWN_CODES, NONBURNABLE_CODES

#: timber fuel groups (TU 161-165, TL 181-189) and the Anderson timber models (8-10): canopy expected
TIMBER_CODES: frozenset[int] = frozenset([*range(161, 166), *range(181, 190), 8, 9, 10])

#: how error messages describe the accepted codes
KNOWN_CODES_TEXT = "Scott & Burgan 101-204, Anderson 1-13 or non-burnable 91-99"

__all__ = ["KNOWN_CODES", "KNOWN_CODES_TEXT", "NONBURNABLE_CODES", "TIMBER_CODES"]
