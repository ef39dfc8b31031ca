"""Cross-check of conventions="flammap" against FlamMap 6 per-cell outputs on the TestMTT landscape."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("rasterio")

from fuelrl.physics.validate import compare_flammap  # noqa: E402


def test_flammap_testmtt_per_cell(testmtt_dir):
    cmp = compare_flammap(testmtt_dir)
    n, median, p99, worst = cmp.stats["spread_rate_m_min"]
    print(cmp.stats, cmp.crown_state_agreement, cmp.direction_error_deg)
    assert n > 7000
    assert median < 0.001  # 0.1 %
    assert p99 < 0.01
    assert worst < 0.02
    for key in ("flame_length_m", "fireline_intensity_kw_m"):
        _, median, p99, _ = cmp.stats[key]
        assert median < 0.001 and p99 < 0.03, key
    assert cmp.crown_state_agreement >= 0.999
    # every crown state FlamMap reports appears in ours
    assert np.all(np.diag(cmp.crown_state_confusion) > 0)
    _, dir_median, dir_max = cmp.direction_error_deg
    assert dir_median < 0.5 and dir_max < 3.0
