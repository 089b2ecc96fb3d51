"""Synthetic reps living in real cities where the accounts' potential is.

The accounts are cut into ``n`` compact areas holding equal shares of potential (recursive weighted bisection:
one rep per equal share, the usual way to size and place a field force); each rep lives in the area's main market:
the city whose accounts hold the most potential in the area, every account counting for its nearest city.
Cities are the ZIPs' ``primary_city`` (USPS names) grouped by state, with at least ``MIN_CITY_POPULATION``
people, located at their most populous ZIP's point; a city with a bigger one within ``SECTION_RADIUS_KM`` is a
section of it (Flushing in Queens, say) and is dropped. The reps of the 20 % of areas with the most potential in
large (L/XL) accounts are senior.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import shapely

from .accounts import Accounts
from .bisection import bisect, project_km
from .zips import ZipPoints

MIN_CITY_POPULATION = 20_000
SECTION_RADIUS_KM = 15.0
CAPACITY_HOURS = 1600.0

_FIRST_NAMES = np.array(
    [
        "James",
        "Mary",
        "Robert",
        "Patricia",
        "John",
        "Jennifer",
        "Michael",
        "Linda",
        "David",
        "Elizabeth",
        "William",
        "Barbara",
        "Richard",
        "Susan",
        "Joseph",
        "Jessica",
        "Thomas",
        "Sarah",
        "Carlos",
        "Karen",
        "Daniel",
        "Lisa",
        "Matthew",
        "Nancy",
        "Anthony",
        "Priya",
        "Mark",
        "Sandra",
        "Wei",
        "Ashley",
        "Andrew",
        "Emily",
        "Joshua",
        "Maria",
        "Kevin",
        "Michelle",
        "Brian",
        "Amanda",
        "Jose",
        "Melissa",
        "Ryan",
        "Stephanie",
        "Jacob",
        "Rebecca",
        "Aisha",
    ]
)
_LAST_NAMES = np.array(
    [
        "Smith",
        "Johnson",
        "Williams",
        "Brown",
        "Jones",
        "Garcia",
        "Miller",
        "Davis",
        "Rodriguez",
        "Martinez",
        "Kim",
        "Hernandez",
        "Lopez",
        "Gonzalez",
        "Wilson",
        "Anderson",
        "Thomas",
        "Taylor",
        "Moore",
        "Jackson",
        "Martin",
        "Lee",
        "Perez",
        "Thompson",
        "White",
        "Harris",
        "Sanchez",
        "Clark",
        "Ramirez",
        "Lewis",
        "Robinson",
        "Walker",
        "Young",
        "Allen",
        "King",
        "Wright",
        "Scott",
        "Torres",
        "Nguyen",
        "Hill",
        "Flores",
        "Green",
        "Adams",
        "Nelson",
        "Baker",
        "Hall",
        "Rivera",
        "Campbell",
        "Mitchell",
        "Carter",
        "Roberts",
        "Chen",
        "Shah",
        "Okafor",
        "Kowalski",
        "O'Brien",
    ]
)


@dataclass(frozen=True)
class Reps:
    external_id: np.ndarray
    name: np.ndarray
    home_lat: np.ndarray
    home_lon: np.ndarray
    home_city: np.ndarray
    home_state: np.ndarray
    home_zip: np.ndarray
    capacity_hours: np.ndarray
    role: np.ndarray  # Account Executive | Senior Account Executive (the 20 % with the most potential around)

    def __len__(self) -> int:
        return len(self.external_id)

    def take(self, index: np.ndarray) -> Reps:
        return Reps(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass(frozen=True)
class Cities:
    name: np.ndarray
    state: np.ndarray
    zip: np.ndarray  # the most populous ZIP, whose point is the city's
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray


def cities_from_zips(zips: ZipPoints, min_population: int = MIN_CITY_POPULATION) -> Cities:
    key = np.char.add(np.char.add(zips.state, "|"), zips.primary_city)
    groups, inverse = np.unique(key, return_inverse=True)
    population = np.bincount(inverse, zips.population, len(groups)).astype(np.int64)
    # The most populous ZIP of each group: sort by (group, -population), take each group's first row.
    order = np.lexsort((-zips.population, inverse))
    first = order[np.concatenate([[True], inverse[order][1:] != inverse[order][:-1]])]
    big = population >= min_population
    cities = Cities(
        name=zips.primary_city[first][big],
        state=zips.state[first][big],
        zip=zips.zip[first][big],
        lat=zips.lat[first][big],
        lon=zips.lon[first][big],
        population=population[big],
    )
    return _drop_sections(cities)


def _drop_sections(cities: Cities) -> Cities:
    points = shapely.points(*project_km(cities.lon, cities.lat))
    a, b = shapely.STRtree(points).query(points, predicate="dwithin", distance=SECTION_RADIUS_KM)
    section = np.zeros(len(points), dtype=bool)
    section[a[cities.population[b] > cities.population[a]]] = True
    return Cities(**{f.name: getattr(cities, f.name)[~section] for f in fields(Cities)})


def place_reps(accounts: Accounts, zips: ZipPoints, n: int = 100, seed: int = 42) -> Reps:
    """``n`` reps at real cities in the main market of equal shares of the accounts' potential; deterministic."""
    rng = np.random.default_rng(seed)
    x, y = project_km(accounts.lon, accounts.lat)
    area = bisect(x, y, accounts.potential.astype(np.float64), n)
    cities = cities_from_zips(zips)
    # An account counts for the city nearest its ZIP's point (its 2 km jitter does not matter at this scale).
    city = _nearest_city(zips.lon, zips.lat, cities)[np.searchsorted(zips.zip, accounts.zip)]
    # Potential per (area, city); each area's home is its city with the most.
    per_city = np.bincount(area * len(cities.name) + city, accounts.potential, n * len(cities.name))
    home = np.argmax(per_city.reshape(n, len(cities.name)), axis=1)
    key_accounts = np.bincount(area, np.where(np.isin(accounts.size_class, ["L", "XL"]), accounts.potential, 0), n)
    senior = key_accounts >= np.quantile(key_accounts, 0.8)
    first = _FIRST_NAMES[rng.integers(0, len(_FIRST_NAMES), n)]
    last = _LAST_NAMES[rng.integers(0, len(_LAST_NAMES), n)]
    return Reps(
        external_id=np.char.add("REP-", np.char.zfill(np.arange(1, n + 1).astype("U4"), 4)),
        name=np.char.add(np.char.add(first, " "), last),
        home_lat=cities.lat[home],
        home_lon=cities.lon[home],
        home_city=cities.name[home],
        home_state=cities.state[home],
        home_zip=cities.zip[home],
        capacity_hours=np.full(n, CAPACITY_HOURS),
        role=np.where(senior, "Senior Account Executive", "Account Executive"),
    )


def _nearest_city(lon: np.ndarray, lat: np.ndarray, cities: Cities) -> np.ndarray:
    tree = shapely.STRtree(shapely.points(*project_km(cities.lon, cities.lat)))
    _, nearest = tree.query_nearest(shapely.points(*project_km(lon, lat)), all_matches=False)
    return nearest
