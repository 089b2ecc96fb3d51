// The base map, offline, under the units as a base map is: state and county borders from us-atlas (Census, public
// domain; the build copies its counties-10m.json next to the page), and the ~300 largest cities (bundled, GeoNames
// CC BY 4.0) named by zoom through the label layer. The same file names every county: "Philadelphia, PA".

import * as L from "leaflet";
import { feature, mesh } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import cityData from "./data/cities.json";
import type { LabelLayer, LabelSpec } from "./labels";

export const COUNTIES_URL = "basemap/counties-10m.json";
const COUNTY_BORDERS_FROM_ZOOM = 6;

// State FIPS -> USPS abbreviation (us-atlas names states in full only).
const STATES: Record<string, string> = {
  "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT", "10": "DE", "11": "DC",
  "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL", "18": "IN", "19": "IA", "20": "KS", "21": "KY",
  "22": "LA", "23": "ME", "24": "MD", "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT",
  "31": "NE", "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND", "39": "OH",
  "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD", "47": "TN", "48": "TX", "49": "UT",
  "50": "VT", "51": "VA", "53": "WA", "54": "WV", "55": "WI", "56": "WY", "60": "AS", "66": "GU", "69": "MP",
  "72": "PR", "78": "VI",
};

interface City {
  name: string;
  state: string;
  lon: number;
  lat: number;
  population: number;
}

type Atlas = Topology<{ counties: GeometryCollection<{ name: string }>; states: GeometryCollection<{ name: string }> }>;

export class BaseMap {
  private countyNames = new Map<string, string>();
  private countyBorders: L.GeoJSON | null = null;
  readonly ready: Promise<void>;

  constructor(
    private readonly map: L.Map,
    labels: LabelLayer,
  ) {
    map.createPane("basemap-lines").style.zIndex = "260"; // above the state fill (250), under the units (390, 400)
    labels.set("cities", cityLabels(cityData.cities as City[]));
    map.attributionControl.addAttribution("Cities: GeoNames (CC BY 4.0)");
    this.ready = this.load();
    map.on("zoomend", () => this.showByZoom());
  }

  /** "Philadelphia, PA" for a county FIPS code the atlas knows. */
  countyName(fips: string): string | null {
    return this.countyNames.get(fips) ?? null;
  }

  private async load(): Promise<void> {
    try {
      const response = await fetch(COUNTIES_URL);
      if (!response.ok) return;
      const atlas = (await response.json()) as Atlas;
      for (const f of feature(atlas, atlas.objects.counties).features) {
        const id = String(f.id);
        const state = STATES[id.slice(0, 2)];
        if (f.properties?.name) this.countyNames.set(id, state ? `${f.properties.name}, ${state}` : f.properties.name);
      }
      const renderer = L.canvas({ pane: "basemap-lines" });
      const style = (weight: number, color: string) => ({ pane: "basemap-lines", interactive: false, renderer, style: { weight, color, fill: false } }) as L.GeoJSONOptions;
      // Borders as meshes: each shared border drawn once, not twice (once per neighbour).
      const counties = mesh(atlas, atlas.objects.counties, (a, b) => a !== b && String(a.id).slice(0, 2) === String(b.id).slice(0, 2));
      this.countyBorders = L.geoJSON(counties as GeoJSON.MultiLineString, style(0.4, "#a3a9b5"));
      L.geoJSON(mesh(atlas, atlas.objects.states) as GeoJSON.MultiLineString, style(1.4, "#6b7384")).addTo(this.map);
      this.showByZoom();
    } catch {
      // Without the borders file the map still has the state fill and the cities.
    }
  }

  private showByZoom(): void {
    if (!this.countyBorders) return;
    if (this.map.getZoom() >= COUNTY_BORDERS_FROM_ZOOM) this.countyBorders.addTo(this.map);
    else this.countyBorders.remove();
  }
}

/** Cities by size: the biggest from zoom 4, the rest as the map zooms in (and where there is room). */
export function cityLabels(cities: City[]): LabelSpec[] {
  return cities.map((c, i) => ({
    id: `city:${c.name}|${c.state}`,
    kind: "city",
    at: L.latLng(c.lat, c.lon),
    text: c.name,
    priority: c.population,
    minZoom: c.population >= 1_000_000 ? 0 : c.population >= 400_000 ? 5 : c.population >= 200_000 ? 6 : i < 300 ? 7 : 8,
  }));
}
