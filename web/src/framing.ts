// Where the map opens: the main cluster of units, not the layer's full extent (geo-service stores it as a layer's
// `frame`; this frames a layer stored before that).

/**
 * The bounds of the main cluster of unit centres: centres binned in 5-degree cells, the connected group of cells
 * holding the most units. Remote parts (Alaska, Hawaii, the Aleutians across the antimeridian) would otherwise
 * shrink the mainland to a speck; they stay on the map, a pan away.
 */
export function robustBounds(centres: [number, number][]): [[number, number], [number, number]] | null {
  if (centres.length === 0) return null;
  const cell = (c: [number, number]) => `${Math.floor(c[0] / 5)},${Math.floor(c[1] / 5)}`;
  const cells = new Map<string, [number, number][]>();
  for (const c of centres) {
    const key = cell(c);
    const inCell = cells.get(key);
    if (inCell) inCell.push(c);
    else cells.set(key, [c]);
  }
  const seen = new Set<string>();
  let best: [number, number][] = [];
  for (const start of cells.keys()) {
    if (seen.has(start)) continue;
    const group: [number, number][] = [];
    const stack = [start];
    seen.add(start);
    while (stack.length) {
      const key = stack.pop()!;
      group.push(...cells.get(key)!);
      const [x, y] = key.split(",").map(Number);
      for (let dx = -1; dx <= 1; dx++)
        for (let dy = -1; dy <= 1; dy++) {
          const next = `${x + dx},${y + dy}`;
          if (cells.has(next) && !seen.has(next)) {
            seen.add(next);
            stack.push(next);
          }
        }
    }
    if (group.length > best.length) best = group;
  }
  let [west, south, east, north] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [lon, lat] of best) {
    west = Math.min(west, lon);
    east = Math.max(east, lon);
    south = Math.min(south, lat);
    north = Math.max(north, lat);
  }
  const pad = 0.25;
  return [[south - pad, west - pad], [north + pad, east + pad]];
}
