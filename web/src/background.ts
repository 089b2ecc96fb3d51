// The background: US state boundaries from the npm package us-atlas (Census cartographic boundaries, public
// domain), bundled into the page, since no base-map tiles can be loaded when the platform runs offline.

import * as L from "leaflet";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import states from "us-atlas/states-10m.json";

export function addStatesBackground(map: L.Map): L.Layer {
  map.createPane("background").style.zIndex = "250";
  const topology = states as unknown as Topology<{ states: GeometryCollection<{ name: string }> }>;
  const shapes = feature(topology, topology.objects.states);
  return L.geoJSON(shapes as GeoJSON.FeatureCollection, {
    pane: "background",
    interactive: false,
    style: { color: "#8f98a8", weight: 0.8, fillColor: "#f3f1ea", fillOpacity: 1 },
    renderer: L.canvas({ pane: "background" }),
  } as L.GeoJSONOptions).addTo(map);
}
