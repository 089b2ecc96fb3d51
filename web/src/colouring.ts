// Territory colours: a greedy graph colouring over territory adjacency, so that neighbours never share a colour.

export const PALETTE = [
  "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
  "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#86bcb6",
  "#d37295", "#a0cbe8",
];
export const WHITE_SPACE = "#d9d9d9";

/** Territories that hold units on both sides of a unit border are adjacent. */
export function territoryAdjacency(
  edges: [string, string][],
  territoryOf: Map<string, string | null>,
): Map<string, Set<string>> {
  const adjacent = new Map<string, Set<string>>();
  for (const [a, b] of edges) {
    const ta = territoryOf.get(a);
    const tb = territoryOf.get(b);
    if (!ta || !tb || ta === tb) continue;
    if (!adjacent.has(ta)) adjacent.set(ta, new Set());
    if (!adjacent.has(tb)) adjacent.set(tb, new Set());
    adjacent.get(ta)!.add(tb);
    adjacent.get(tb)!.add(ta);
  }
  return adjacent;
}

/**
 * Greedy (Welsh-Powell order): most-connected territories first, each takes a palette colour no neighbour has.
 * Beyond the palette (rare: planar maps need four) colours are generated, still distinct from neighbours.
 */
export function colourTerritories(territoryIds: string[], adjacent: Map<string, Set<string>>): Map<string, string> {
  const order = [...territoryIds].sort(
    (a, b) => (adjacent.get(b)?.size ?? 0) - (adjacent.get(a)?.size ?? 0) || a.localeCompare(b),
  );
  const index = new Map<string, number>();
  const used = new Array<number>(PALETTE.length).fill(0);
  for (const id of order) {
    const taken = new Set<number>();
    for (const n of adjacent.get(id) ?? []) {
      const c = index.get(n);
      if (c !== undefined) taken.add(c);
    }
    // Of the palette colours no neighbour has, the least used so far: as distinct as possible, not just valid.
    let c = -1;
    for (let i = 0; i < PALETTE.length; i++) if (!taken.has(i) && (c < 0 || used[i] < used[c])) c = i;
    if (c < 0) for (c = PALETTE.length; taken.has(c); c++);
    if (c < PALETTE.length) used[c]++;
    index.set(id, c);
  }
  const colours = new Map<string, string>();
  for (const [id, c] of index) colours.set(id, c < PALETTE.length ? PALETTE[c] : `hsl(${(c * 137) % 360} 55% 60%)`);
  return colours;
}
