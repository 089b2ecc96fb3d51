// Scenario comparison: units whose territory differs between two alignments. Territories are copied with new ids,
// so a unit is compared by its territory's code.

import type { Territory } from "./api";

export function changedUnits(
  a: Map<string, string | null>,
  aTerritories: Territory[],
  b: Map<string, string | null>,
  bTerritories: Territory[],
): Set<string> {
  const codeA = new Map(aTerritories.map((t) => [t.id, t.code]));
  const codeB = new Map(bTerritories.map((t) => [t.id, t.code]));
  const changed = new Set<string>();
  for (const unit of new Set([...a.keys(), ...b.keys()])) {
    const ta = a.get(unit);
    const tb = b.get(unit);
    if ((ta ? codeA.get(ta) : null) !== (tb ? codeB.get(tb) : null)) changed.add(unit);
  }
  return changed;
}
