"""Everything the planning and simulation commands write: JSON summaries, Markdown tables, CSV
tables, GeoTIFFs, GeoPackages and PNG maps.

The commands (``fuelrl simulate``, ``plan``, ``evaluate``) parse their options and compute; the
modules here turn what they computed into files:

- :mod:`fuelrl.reports.rasters`: named GeoTIFF outputs (:class:`Raster`), each on the landscape's
  exact grid, so a new raster is one more entry in a list;
- :mod:`fuelrl.reports.simulate`, :mod:`fuelrl.reports.plan`, :mod:`fuelrl.reports.evaluate`:
  one summary builder and one writer per command;
- :mod:`fuelrl.reports.treatments`: treatment units (polygons of contiguous treated cells) as a
  GeoPackage and a CSV.

Lower layers never import this package; it imports the landscape, scoring and map code.
"""

from fuelrl.reports.common import PlanningContext, backend_options, slug, unique_slugs
from fuelrl.reports.rasters import Raster, breaks_raster, write_rasters

__all__ = [
    "PlanningContext",
    "Raster",
    "backend_options",
    "breaks_raster",
    "slug",
    "unique_slugs",
    "write_rasters",
]
