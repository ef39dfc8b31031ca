"""Standard surface fire behaviour fuel models: Anderson (1982) 13 and Scott & Burgan (2005) 40.

Facts from Anderson, H.E. 1982, *Aids to determining fuel models for estimating fire behavior*,
USDA For. Serv. Gen. Tech. Rep. INT-122 (with Albini 1976, INT-30, for the SAV of the 10-h and
100-h classes and model 7's live SAV of 1550 1/ft) and Scott, J.H.; Burgan, R.E. 2005, *Standard
fire behavior fuel models*, RMRS-GTR-153. The project's own copy lives in
``fuelrl/data/fuel_models.csv`` in the published units (t/ac, 1/ft, ft, %, BTU/lb); this module
exposes them in SI (field names carry the units) and as lookup tables indexed by model code for
vectorised code.

Codes: 1-13 Anderson; 101-204 Scott & Burgan (GR1 ... SB4); 91, 92, 93, 98, 99 non-burnable
(NB1 urban, NB2 snow/ice, NB3 agriculture, NB8 water, NB9 bare ground); 0 is nodata (no fuel).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from fuelrl.errors import InputError
from fuelrl.physics import units

NONBURNABLE_CODES: frozenset[int] = frozenset({91, 92, 93, 98, 99})
NONBURNABLE_LABELS: dict[int, str] = {
    91: "NB1",
    92: "NB2",
    93: "NB3",
    98: "NB8",
    99: "NB9",
}
NONBURNABLE_NAMES: dict[int, str] = {
    91: "Urban/developed",
    92: "Snow/ice",
    93: "Agricultural",
    98: "Open water",
    99: "Bare ground",
}
#: The code for "no data / no fuel" (burns nothing); not part of KNOWN_CODES.
NODATA_CODE = 0
#: Size of the code-indexed lookup tables (codes 0 .. TABLE_SIZE-1).
TABLE_SIZE = 256


@dataclass(frozen=True)
class FuelModel:
    """One fire behaviour fuel model in SI units."""

    code: int
    label: str  # "GR1", "FM4"
    name: str
    dynamic: bool  # herbaceous load transfers between live and dead with curing
    load_1h_kg_m2: float
    load_10h_kg_m2: float
    load_100h_kg_m2: float
    load_herb_kg_m2: float
    load_woody_kg_m2: float
    sav_1h_m_1: float  # surface-area-to-volume ratio, 1/m
    sav_10h_m_1: float
    sav_100h_m_1: float
    sav_herb_m_1: float
    sav_woody_m_1: float
    depth_m: float  # fuel bed depth
    dead_moisture_of_extinction_fraction: float
    heat_content_dead_kj_kg: float
    heat_content_live_kj_kg: float

    @property
    def total_load_kg_m2(self) -> float:
        return (
            self.load_1h_kg_m2
            + self.load_10h_kg_m2
            + self.load_100h_kg_m2
            + self.load_herb_kg_m2
            + self.load_woody_kg_m2
        )


def _load_models() -> dict[int, FuelModel]:
    text = resources.files("fuelrl").joinpath("data/fuel_models.csv").read_text()
    models: dict[int, FuelModel] = {}
    t_ac = units.KG_M2_PER_T_AC
    per_ft = units.FT_PER_M  # 1/ft -> 1/m
    for row in csv.DictReader(text.splitlines()):
        code = int(row["code"])
        models[code] = FuelModel(
            code=code,
            label=row["label"],
            name=row["name"],
            dynamic=row["dynamic"] == "1",
            load_1h_kg_m2=float(row["load_1h_t_ac"]) * t_ac,
            load_10h_kg_m2=float(row["load_10h_t_ac"]) * t_ac,
            load_100h_kg_m2=float(row["load_100h_t_ac"]) * t_ac,
            load_herb_kg_m2=float(row["load_herb_t_ac"]) * t_ac,
            load_woody_kg_m2=float(row["load_woody_t_ac"]) * t_ac,
            sav_1h_m_1=float(row["sav_1h_ft_1"]) * per_ft,
            sav_10h_m_1=float(row["sav_10h_ft_1"]) * per_ft,
            sav_100h_m_1=float(row["sav_100h_ft_1"]) * per_ft,
            sav_herb_m_1=float(row["sav_herb_ft_1"]) * per_ft,
            sav_woody_m_1=float(row["sav_woody_ft_1"]) * per_ft,
            depth_m=float(row["depth_ft"]) * units.M_PER_FT,
            dead_moisture_of_extinction_fraction=float(row["dead_mx_ext_pct"]) / 100.0,
            heat_content_dead_kj_kg=float(row["heat_dead_btu_lb"]) * units.KJ_KG_PER_BTU_LB,
            heat_content_live_kj_kg=float(row["heat_live_btu_lb"]) * units.KJ_KG_PER_BTU_LB,
        )
    return models


#: code -> FuelModel for the 13 Anderson and 40 Scott & Burgan models (burnable only).
FUEL_MODELS: dict[int, FuelModel] = _load_models()
BURNABLE_CODES: frozenset[int] = frozenset(FUEL_MODELS)
#: Every valid fuel model code (burnable and non-burnable). 0 (nodata) is not included.
KNOWN_CODES: frozenset[int] = BURNABLE_CODES | NONBURNABLE_CODES

_LABEL_TO_CODE: dict[str, int] = {m.label.upper(): c for c, m in FUEL_MODELS.items()}
_LABEL_TO_CODE.update({label: c for c, label in NONBURNABLE_LABELS.items()})


def parse_fuel_model(value: str | int) -> int:
    """A fuel model code from a label or number: "GR1" / "101" / 101 -> 101; "FM4" / "4" -> 4;
    "NB9" / 99 -> 99. Raises InputError naming the value and what is accepted otherwise."""
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"fuel model {value!r} is not a fuel model code or name")
    if isinstance(value, (int, np.integer)):
        code = int(value)
    elif isinstance(value, (float, np.floating)) and float(value).is_integer():
        code = int(value)
    elif isinstance(value, str):
        text = value.strip().upper()
        if text in _LABEL_TO_CODE:
            return _LABEL_TO_CODE[text]
        if re.fullmatch(r"[+]?\d+(\.0*)?", text):
            code = int(float(text))
        else:
            raise InputError(
                f"unknown fuel model {value!r}: expected a Scott & Burgan name (GR1 ... SB4), "
                "an Anderson model FM1 ... FM13, a non-burnable NB1/NB2/NB3/NB8/NB9, or a number "
                "(1-13, 91-99, 101-204)"
            )
    else:
        raise InputError(f"fuel model {value!r} is not a fuel model code or name")
    if code not in KNOWN_CODES:
        raise InputError(
            f"unknown fuel model code {code}: expected 1-13 (Anderson), 101-204 (Scott & Burgan) "
            "or 91, 92, 93, 98, 99 (non-burnable)"
        )
    return code


# ---------------------------------------------------------------------------------------------
# Code-indexed lookup tables (rows = code 0..255) for vectorised physics.
# Particle order everywhere: 0 dead 1-h, 1 dead 10-h, 2 dead 100-h, 3 dead herbaceous
# (cured, transferred), 4 live herbaceous, 5 live woody.
# Rothermel's units (lb/ft2, 1/ft, ft, BTU/lb) because the surface equations are evaluated in them.
# ---------------------------------------------------------------------------------------------

N_PARTICLES = 6
DEAD_PARTICLES = (0, 1, 2, 3)
LIVE_PARTICLES = (4, 5)

_BURNABLE = np.zeros(TABLE_SIZE, dtype=bool)
LOAD_LB_FT2 = np.zeros((TABLE_SIZE, 5))  # 1h, 10h, 100h, herb, woody (before herbaceous transfer)
SAV_FT_1 = np.ones((TABLE_SIZE, N_PARTICLES))  # 1.0 where the class is empty (avoids 0-division)
DEPTH_FT = np.ones(TABLE_SIZE)
DEAD_MX_EXT = np.ones(TABLE_SIZE)
HEAT_BTU_LB = np.full((TABLE_SIZE, N_PARTICLES), 8000.0)
DYNAMIC = np.zeros(TABLE_SIZE)
#: SAME_SIZE_CLASS[code, j, k] = 1 where particles j and k are in the same category (dead/live)
#: and the same Albini (1976) size-sorting bin; used for the net-load weighting factors.
SAME_SIZE_CLASS = np.zeros((TABLE_SIZE, N_PARTICLES, N_PARTICLES))


def _size_bin(sav_ft_1: float) -> int:
    """Albini (1976) / BEHAVE size-class bins by SAV (1/ft): >=1200, 192, 96, 48, 16, <16."""
    for i, edge in enumerate((1200.0, 192.0, 96.0, 48.0, 16.0)):
        if sav_ft_1 >= edge:
            return i
    return 5


def _build_tables() -> None:
    lb = 1.0 / units.KG_M2_PER_LB_FT2
    for code, m in FUEL_MODELS.items():
        _BURNABLE[code] = True
        LOAD_LB_FT2[code] = [
            m.load_1h_kg_m2 * lb,
            m.load_10h_kg_m2 * lb,
            m.load_100h_kg_m2 * lb,
            m.load_herb_kg_m2 * lb,
            m.load_woody_kg_m2 * lb,
        ]
        sav = (
            np.array(
                [m.sav_1h_m_1, m.sav_10h_m_1, m.sav_100h_m_1, m.sav_herb_m_1, m.sav_herb_m_1, m.sav_woody_m_1]
            )
            / units.FT_PER_M
        )
        sav = np.round(sav, 6)
        SAV_FT_1[code] = np.where(sav > 0, sav, 1.0)
        DEPTH_FT[code] = m.depth_m / units.M_PER_FT
        DEAD_MX_EXT[code] = m.dead_moisture_of_extinction_fraction
        hd = m.heat_content_dead_kj_kg / units.KJ_KG_PER_BTU_LB
        hl = m.heat_content_live_kj_kg / units.KJ_KG_PER_BTU_LB
        HEAT_BTU_LB[code] = [hd, hd, hd, hd, hl, hl]
        DYNAMIC[code] = 1.0 if m.dynamic else 0.0
        bins = [_size_bin(s) for s in SAV_FT_1[code]]
        for j in range(N_PARTICLES):
            for k in range(N_PARTICLES):
                same_cat = (j in DEAD_PARTICLES) == (k in DEAD_PARTICLES)
                SAME_SIZE_CLASS[code, j, k] = float(same_cat and bins[j] == bins[k])


_build_tables()


def is_burnable(codes: Any) -> Any:
    """Boolean array (numpy or torch, like ``codes``): True where the code is a burnable model."""
    from fuelrl.physics._xp import namespace

    xp = namespace(codes)
    idx, inside = xp.table_index(codes, TABLE_SIZE)
    return xp.logical_and(xp.bool_table(_BURNABLE)[idx], inside)
