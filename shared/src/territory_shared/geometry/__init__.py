"""Pure geometry helpers shared by the geo-service and the optimizer: adjacency, projection, compactness."""

from territory_shared.geometry.adjacency import Adjacency, IslandLink, border_adjacency, components, link_islands
from territory_shared.geometry.compactness import mean_polsby_popper, polsby_popper, territory_polsby_popper
from territory_shared.geometry.projection import CONUS_ALBERS, choose_equal_area_crs, to_equal_area

__all__ = [
    "CONUS_ALBERS",
    "Adjacency",
    "IslandLink",
    "border_adjacency",
    "choose_equal_area_crs",
    "components",
    "link_islands",
    "mean_polsby_popper",
    "polsby_popper",
    "territory_polsby_popper",
    "to_equal_area",
]
