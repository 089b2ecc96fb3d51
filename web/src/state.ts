// What the page shows: the sales force's alignments, the alignment on screen (its version), its layer and units,
// the territories and memberships, the selection, and the scenario compared with it. The panels render from here;
// only the loaders, the edit history and the scenario section change it.

import type { Alignment, Feature, FeatureCollection, Layer, Territory } from "./api";
import { colourTerritories, territoryAdjacency } from "./colouring";
import type { MapView } from "./map";
import type { BalanceReport } from "./services";

/** A move as the edit history keeps it: the units, where they went, and where each came from. */
export interface Move {
  unitIds: string[];
  to: string | null;
  from: Map<string | null, string[]>;
}

/** The alignment shown side by side, and the units whose territory differs from the one on screen. */
export interface Compared {
  alignment: Alignment;
  territoryOf: Map<string, string | null>;
  colours: Map<string, string>;
  changed: Set<string>;
  view: MapView;
}

export class MapState {
  /** The alignments of the sales force on screen. */
  alignments: Alignment[] = [];
  /** The alignment on screen, at the version the page last read or wrote. */
  current: Alignment | null = null;
  layer: Layer | null = null;
  unitFeatures: Feature[] = [];
  unitProps = new Map<string, Record<string, unknown>>();
  areas = new Map<string, number>();
  edges: [string, string][] = [];
  territories: Territory[] = [];
  shapes: FeatureCollection | null = null;
  /** Memberships: the territory of each unit (null: white space), and the locked units. */
  territoryOf = new Map<string, string | null>();
  locked = new Set<string>();
  colours = new Map<string, string>();
  balance: BalanceReport | null = null;
  balanceMetric: string | null = null;
  selection = new Set<string>();
  focusTerritory: string | null = null;
  compared: Compared | null = null;
  /** Reads and writes in flight (the test hook waits for none). */
  busy = 0;
  ready = false;

  codeOf(territoryId: string | null): string {
    return territoryId ? (this.territories.find((t) => t.id === territoryId)?.code ?? territoryId) : "white space";
  }

  /** Territories without children: the ones units belong to and the map colours. */
  leafIds(): Set<string> {
    const parents = new Set(this.territories.map((t) => t.parent_id).filter((p): p is string => !!p));
    return new Set(this.territories.filter((t) => !parents.has(t.id)).map((t) => t.id));
  }

  depthOf(id: string): number {
    const byId = new Map(this.territories.map((t) => [t.id, t]));
    let depth = 0;
    for (let t = byId.get(id); t?.parent_id && depth < 50; t = byId.get(t.parent_id)) depth++;
    return depth;
  }

  /** Colour the leaf territories so that neighbours never share a colour. */
  recolour(): void {
    this.colours = colourTerritories([...this.leafIds()], territoryAdjacency(this.edges, this.territoryOf));
  }

  /** Keep the list of alignments in step with the one on screen (its version and state change with each write). */
  syncCurrent(): void {
    if (!this.current) return;
    const i = this.alignments.findIndex((a) => a.id === this.current!.id);
    if (i >= 0) this.alignments[i] = this.current;
  }
}
