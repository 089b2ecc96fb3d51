"""Synthetic accounts around real ZIP points: vectorized, deterministic by seed (1,000,000 in a few seconds).

How an account is made:
- its ZIP is drawn with probability proportional to the ZIP's population x (median income / US income);
- it is placed within ``JITTER_KM`` (uniform on the disc) of the ZIP's point, and kept only if it falls inside the
  county that contains that point (up to 4 tries, halving the radius); else it sits on the ZIP point itself.
  A ZIP point outside every county shape (coast at 1:10m) is first moved to the nearest point inside its county.
  So every account lies on land, inside ``county_fips`` (``inside_us`` records the check, and is always True);
- industry follows a US business mix tilted by local income (more technology / finance / professional services
  where incomes are high); size S/M/L/XL is skewed (62/25/10/3 %);
- potential (USD per year) is lognormal around a median by size, scaled by industry and sqrt(local income ratio);
  a share of accounts are customers (more among large ones) with revenue = potential x Beta(2, 4), the others are
  prospects with no revenue;
- visits per year ~ Poisson(base by size and status), at least 1; workload hours = visits x hours per visit by
  size (travel excluded). 50,000 accounts for 100 reps is about 1,200 visit hours per rep (capacity 1,600).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import shapely

from .counties import Counties
from .zips import ZipPoints

JITTER_KM = 2.0
KM_PER_DEGREE = 111.32

INDUSTRIES = np.array(
    [
        "healthcare",
        "retail",
        "professional services",
        "manufacturing",
        "construction",
        "finance & insurance",
        "technology",
        "education",
        "hospitality",
        "wholesale & distribution",
        "transportation & logistics",
        "real estate",
    ]
)
_INDUSTRY_SHARE = np.array([0.14, 0.13, 0.14, 0.09, 0.10, 0.07, 0.05, 0.04, 0.10, 0.06, 0.05, 0.03])
# How an industry's share moves with local income: share x income_ratio ** tilt.
_INDUSTRY_INCOME_TILT = np.array([0.0, -0.3, 0.8, -0.5, 0.0, 0.8, 1.5, 0.3, 0.0, -0.3, -0.5, 0.5])
_INDUSTRY_POTENTIAL = np.array([1.1, 0.8, 1.0, 1.3, 0.9, 1.2, 1.3, 0.7, 0.6, 1.1, 1.0, 0.8])
_INDUSTRY_NOUNS = {
    "healthcare": ["Family Clinic", "Medical Group", "Dental Care", "Health Partners", "Pharmacy", "Urgent Care"],
    "retail": ["Outfitters", "Hardware", "Market", "Home Goods", "Boutique", "Auto Parts"],
    "professional services": ["Consulting", "Law Group", "Accounting", "Engineering", "Architects", "Staffing"],
    "manufacturing": ["Manufacturing", "Fabrication", "Plastics", "Machine Works", "Industries", "Components"],
    "construction": ["Builders", "Construction", "Roofing", "Electric", "Plumbing & Heating", "Contractors"],
    "finance & insurance": ["Financial", "Credit Union", "Insurance Agency", "Capital", "Wealth Advisors", "Bank"],
    "technology": ["Software", "Technologies", "Data Systems", "Networks", "Labs", "Digital"],
    "education": ["Academy", "Learning Center", "Schools", "Institute", "Tutoring", "Montessori"],
    "hospitality": ["Grill", "Hotel", "Bistro", "Catering", "Coffee Roasters", "Inn"],
    "wholesale & distribution": ["Distributors", "Wholesale", "Supply", "Trading", "Imports", "Packaging"],
    "transportation & logistics": ["Logistics", "Freight", "Trucking", "Transport", "Delivery", "Warehousing"],
    "real estate": ["Realty", "Properties", "Property Management", "Real Estate Group", "Homes", "Land Co."],
}
_SURNAMES = np.array(
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
        "Hernandez",
        "Lopez",
        "Wilson",
        "Anderson",
        "Thomas",
        "Taylor",
        "Moore",
        "Jackson",
        "Martin",
        "Lee",
        "Thompson",
        "White",
        "Harris",
        "Clark",
        "Lewis",
        "Robinson",
        "Walker",
        "Young",
        "Allen",
        "King",
        "Wright",
        "Scott",
        "Nguyen",
        "Hill",
        "Green",
        "Adams",
        "Baker",
        "Nelson",
        "Carter",
        "Mitchell",
        "Perez",
        "Roberts",
        "Turner",
        "Phillips",
        "Campbell",
        "Parker",
        "Evans",
        "Edwards",
        "Collins",
        "Stewart",
        "Morris",
        "Murphy",
        "Cook",
        "Rogers",
        "Patel",
    ]
)
_ADJECTIVES = np.array(
    [
        "Summit",
        "Pioneer",
        "Liberty",
        "Keystone",
        "Evergreen",
        "Blue Ridge",
        "Heritage",
        "Frontier",
        "Cornerstone",
        "Pinnacle",
        "Riverside",
        "Lakeside",
        "Northstar",
        "Granite",
        "Cardinal",
        "Meridian",
        "Prairie",
        "Harbor",
        "Apex",
        "Sterling",
        "Oak Hill",
        "Crescent",
        "Union",
        "Patriot",
        "Bayview",
        "Redwood",
        "Silver Creek",
        "Horizon",
    ]
)
_LEGAL_SUFFIXES = np.array(["", "", "", " LLC", " Inc.", " Group", " & Co.", " Partners"])

SIZE_CLASSES = np.array(["S", "M", "L", "XL"])
_SIZE_SHARE = np.array([0.62, 0.25, 0.10, 0.03])
_SIZE_POTENTIAL_MEDIAN = np.array([12_000.0, 45_000.0, 180_000.0, 700_000.0])  # USD per year
_POTENTIAL_SIGMA = 0.6
_SIZE_CUSTOMER_SHARE = np.array([0.30, 0.40, 0.50, 0.65])
_VISITS_CUSTOMER = np.array([2.0, 3.0, 6.0, 10.0])
_VISITS_PROSPECT = np.array([1.0, 1.0, 2.0, 4.0])
_HOURS_PER_VISIT = np.array([0.75, 1.0, 1.5, 2.0])


@dataclass(frozen=True)
class Accounts:
    external_id: np.ndarray
    name: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    zip: np.ndarray
    county_fips: np.ndarray
    state: np.ndarray
    industry: np.ndarray
    size_class: np.ndarray
    status: np.ndarray  # customer | prospect
    potential: np.ndarray  # int64, USD per year (to the nearest 10)
    revenue: np.ndarray  # int64, USD per year (0 for prospects)
    visits_per_year: np.ndarray
    workload_hours: np.ndarray
    inside_us: np.ndarray  # bool: the point was checked inside its county's shape

    def __len__(self) -> int:
        return len(self.external_id)

    def take(self, index: np.ndarray) -> Accounts:
        return Accounts(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass(frozen=True)
class ZipAnchors:
    """Each ZIP's point moved inside the county shape that holds it (or its own county's, if none does)."""

    lon: np.ndarray
    lat: np.ndarray
    county: np.ndarray  # index into the counties


def anchor_zips(zips: ZipPoints, counties: Counties) -> ZipAnchors:
    points = shapely.points(zips.lon, zips.lat)
    geometries = counties.geometries
    shapely.prepare(geometries)
    own = np.searchsorted(counties.ids, zips.county_fips)
    own = np.where(counties.ids[np.minimum(own, len(counties) - 1)] == zips.county_fips, own, -1)
    county = np.full(len(zips), -1, dtype=np.int64)
    known = own >= 0
    inside_own = np.zeros(len(zips), dtype=bool)
    inside_own[known] = shapely.contains_xy(geometries[own[known]], zips.lon[known], zips.lat[known])
    county[inside_own] = own[inside_own]
    # The point lies in another county (a ZIP spans several): that county is where the account is.
    todo = np.flatnonzero(~inside_own)
    tree = shapely.STRtree(geometries)
    point_idx, county_idx = tree.query(points[todo], predicate="within")
    county[todo[point_idx[::-1]]] = county_idx[::-1]  # first hit wins
    lon, lat = zips.lon.copy(), zips.lat.copy()
    # Outside every county (water at this scale): the nearest point inside its own county (else the nearest one).
    for i in np.flatnonzero(county < 0).tolist():
        c = int(own[i]) if own[i] >= 0 else int(tree.query_nearest(points[i])[0])
        near = shapely.intersection(shapely.buffer(points[i], 0.05), geometries[c])
        target = near if not shapely.is_empty(near) else geometries[c]
        p = shapely.point_on_surface(target)
        lon[i], lat[i] = np.round(p.x, 6), np.round(p.y, 6)
        county[i] = c
    return ZipAnchors(lon=lon, lat=lat, county=county)


def synthesize_accounts(
    zips: ZipPoints,
    counties: Counties,
    n: int = 50_000,
    seed: int = 42,
    anchors: ZipAnchors | None = None,
) -> Accounts:
    """``n`` synthetic accounts placed around ``zips`` (see the module docstring); the same seed gives the same set."""
    rng = np.random.default_rng(seed)
    anchors = anchors or anchor_zips(zips, counties)
    us_income = float(np.average(zips.median_income, weights=np.maximum(zips.population, 0) + 1e-9))
    income_ratio = zips.median_income / us_income
    weight = np.maximum(zips.population, 0) * income_ratio
    z = rng.choice(len(zips), size=n, p=weight / weight.sum())
    county = anchors.county[z]
    lon, lat, inside = _jitter_inside(rng, anchors.lon[z], anchors.lat[z], counties.geometries[county])

    local_income = np.clip(income_ratio[z], 0.3, 3.0)
    industry = _draw_industry(rng, local_income)
    size = rng.choice(len(SIZE_CLASSES), size=n, p=_SIZE_SHARE)
    potential = (
        _SIZE_POTENTIAL_MEDIAN[size]
        * _INDUSTRY_POTENTIAL[industry]
        * np.sqrt(local_income)
        * rng.lognormal(0.0, _POTENTIAL_SIGMA, size=n)
    )
    customer = rng.random(n) < _SIZE_CUSTOMER_SHARE[size]
    revenue = np.where(customer, potential * rng.beta(2.0, 4.0, size=n), 0.0)
    base_visits = np.where(customer, _VISITS_CUSTOMER[size], _VISITS_PROSPECT[size])
    visits = np.maximum(1, rng.poisson(base_visits)).astype(np.int64)
    return Accounts(
        external_id=np.char.add("ACC-", np.char.zfill(np.arange(1, n + 1).astype("U7"), 7)),
        name=_names(rng, industry, zips.primary_city[z]),
        lat=lat,
        lon=lon,
        zip=zips.zip[z],
        county_fips=counties.ids[county],
        state=counties.state_abbr[county],
        industry=INDUSTRIES[industry],
        size_class=SIZE_CLASSES[size],
        status=np.where(customer, "customer", "prospect"),
        potential=np.round(potential, -1).astype(np.int64),
        revenue=np.round(revenue, -1).astype(np.int64),
        visits_per_year=visits,
        workload_hours=np.round(visits * _HOURS_PER_VISIT[size], 2),
        inside_us=inside,
    )


def _jitter_inside(
    rng: np.random.Generator,
    lon0: np.ndarray,
    lat0: np.ndarray,
    shapes: np.ndarray,
    tries: int = 4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lon, lat = lon0.copy(), lat0.copy()
    todo = np.arange(len(lon0))
    radius = JITTER_KM
    for _ in range(tries):
        r = radius * np.sqrt(rng.random(len(todo)))
        theta = rng.random(len(todo)) * 2 * np.pi
        y = np.round(lat0[todo] + r * np.sin(theta) / KM_PER_DEGREE, 6)
        x = np.round(lon0[todo] + r * np.cos(theta) / (KM_PER_DEGREE * np.cos(np.radians(lat0[todo]))), 6)
        ok = shapely.contains_xy(shapes[todo], x, y)
        lon[todo[ok]], lat[todo[ok]] = x[ok], y[ok]
        todo = todo[~ok]
        radius /= 2
        if len(todo) == 0:
            break
    # The rest stay on their anchor, which is inside by construction; checked all the same.
    inside = np.ones(len(lon), dtype=bool)
    inside[todo] = shapely.contains_xy(shapes[todo], lon[todo], lat[todo])
    return lon, lat, inside


def _draw_industry(rng: np.random.Generator, income_ratio: np.ndarray) -> np.ndarray:
    # Income in 12 bins (a 12 x 12 table of industry mixes) keeps this vectorized and light for 1M accounts.
    edges = np.geomspace(0.3, 3.0, 13)[1:-1]
    centers = np.sqrt(np.geomspace(0.3, 3.0, 13)[:-1] * np.geomspace(0.3, 3.0, 13)[1:])
    mix = _INDUSTRY_SHARE[None, :] * centers[:, None] ** _INDUSTRY_INCOME_TILT[None, :]
    cumulative = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)
    cumulative[:, -1] = 1.0
    bins = np.searchsorted(edges, income_ratio)
    u = rng.random(len(income_ratio))
    industry = np.empty(len(income_ratio), dtype=np.int64)
    for b in range(len(centers)):
        mask = bins == b
        industry[mask] = np.searchsorted(cumulative[b], u[mask], side="right")
    return industry


def _names(rng: np.random.Generator, industry: np.ndarray, city: np.ndarray) -> np.ndarray:
    n = len(industry)
    pattern = rng.choice(3, size=n, p=[0.45, 0.30, 0.25])
    first = np.where(
        pattern == 0,
        _SURNAMES[rng.integers(0, len(_SURNAMES), n)],
        np.where(pattern == 1, city, _ADJECTIVES[rng.integers(0, len(_ADJECTIVES), n)]),
    )
    nouns = np.array([_INDUSTRY_NOUNS[name] for name in INDUSTRIES.tolist()])  # 12 x 6
    noun = nouns[industry, rng.integers(0, nouns.shape[1], n)]
    suffix = _LEGAL_SUFFIXES[rng.integers(0, len(_LEGAL_SUFFIXES), n)]
    return np.char.add(np.char.add(np.char.add(first.astype(str), " "), noun), suffix)
