"""Unit conversion factors used at the edges of the physics (SI outside, Rothermel's units inside).

Rothermel (1972) and its successors publish their empirical coefficients in US customary units
(lb, ft, min, BTU). The surface-fire module evaluates the equations exactly as published in
those units and converts to SI at its boundary with the factors below (exact definitions:
1 ft = 0.3048 m, 1 lb = 0.45359237 kg, 1 BTU (IT) = 1.05505585262 kJ).
"""

from __future__ import annotations

M_PER_FT = 0.3048
FT_PER_M = 1.0 / M_PER_FT
KG_PER_LB = 0.45359237
KJ_PER_BTU = 1.05505585262
M_PER_MILE = 1609.344

#: 1 lb/ft2 in kg/m2
KG_M2_PER_LB_FT2 = KG_PER_LB / M_PER_FT**2
#: 1 short ton per acre in lb/ft2 (2000 lb / 43560 ft2)
LB_FT2_PER_T_AC = 2000.0 / 43560.0
#: 1 t/ac in kg/m2
KG_M2_PER_T_AC = LB_FT2_PER_T_AC * KG_M2_PER_LB_FT2
#: 1 BTU/lb in kJ/kg
KJ_KG_PER_BTU_LB = KJ_PER_BTU / KG_PER_LB
#: 1 BTU/ft2/min in kW/m2
KW_M2_PER_BTU_FT2_MIN = KJ_PER_BTU / M_PER_FT**2 / 60.0
#: 1 BTU/ft2 in kJ/m2
KJ_M2_PER_BTU_FT2 = KJ_PER_BTU / M_PER_FT**2
#: 1 BTU/ft/s in kW/m
KW_M_PER_BTU_FT_S = KJ_PER_BTU / M_PER_FT
#: 1 mi/h in m/min
M_MIN_PER_MPH = M_PER_MILE / 60.0
#: 1 mi/h in ft/min
FT_MIN_PER_MPH = 88.0
#: 1 chain/h in m/min (1 chain = 66 ft)
M_MIN_PER_CH_H = 66.0 * M_PER_FT / 60.0
#: square metres in a hectare
M2_PER_HA = 10_000.0
#: acres in a hectare (1 international acre = 4046.8564224 m2)
ACRES_PER_HA = 2.4710538146716536
