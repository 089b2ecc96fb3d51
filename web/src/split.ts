// "Split into finer units…": replace the selected units of a draft by the finer units of another layer.
//
// geo-service moves the draft onto a derived layer (the other units, plus the finer units clipped to each split
// unit, each piece in the territory of the unit it splits); the page then reloads the draft, which brings the new
// layer's units onto the map, and selects the pieces so they can be seen (and moved) at once.

import { Alignment, Api, Layer } from "./api";
import { $, errorText, fillSelect } from "./dom";

export interface SplitDeps {
  api: Api;
  current: () => Alignment | null;
  selection: () => string[];
  /** A versioned write, as the page runs every edit (412 and locked units are handled there). */
  edit: (write: (alignment: Alignment) => Promise<void>) => Promise<boolean>;
  /** One write at a time. */
  run: (work: () => Promise<void>) => Promise<void>;
  reload: (alignmentId: string) => Promise<void>;
  select: (unitIds: string[]) => void;
  say: (text: string, error?: boolean) => void;
}

interface SplitRead {
  alignment: Alignment;
  layer_id: string;
  layer_name: string;
  pieces: Record<string, string[]>;
}

export function wireSplit(deps: SplitDeps): void {
  const form = $("split-form");
  $("split-open").addEventListener("click", () => void open(deps, form));
  $("split-cancel").addEventListener("click", () => (form.hidden = true));
  $("split-confirm").addEventListener("click", () => void deps.run(() => split(deps, form)));
}

async function open(deps: SplitDeps, form: HTMLElement): Promise<void> {
  const alignment = deps.current();
  if (alignment?.state !== "draft") return deps.say("Only a draft can be edited: create a draft to split units.", true);
  if (deps.selection().length === 0) return deps.say("Select the units to split first.", true);
  try {
    const layers = (await deps.api.get<Layer[]>("/geo/v1/layers")).filter((l) => l.id !== alignment.layer_id);
    if (layers.length === 0) return deps.say("No other layer to split into: import a layer of finer units first.", true);
    fillSelect($("split-layer"), layers.map((l): [string, string] => [l.id, `${l.name} (${l.unit_count.toLocaleString()} units)`]), layers[0].id);
    form.hidden = false;
  } catch (e) {
    deps.say(errorText(e), true);
  }
}

async function split(deps: SplitDeps, form: HTMLElement): Promise<void> {
  const unitIds = deps.selection();
  const intoLayer = $<HTMLSelectElement>("split-layer").value;
  if (unitIds.length === 0 || !intoLayer) return;
  let result: SplitRead | null = null;
  const ok = await deps.edit(async (alignment) => {
    result = await deps.api.request<SplitRead>(
      "POST",
      `/geo/v1/alignments/${alignment.id}/split`,
      { unit_ids: unitIds, into_layer: intoLayer },
      { "If-Match": `"${alignment.version}"` },
    );
  });
  if (!ok || result === null) return;
  const done: SplitRead = result;
  form.hidden = true;
  await deps.reload(done.alignment.id);
  const pieces = Object.values(done.pieces).flat();
  deps.select(pieces);
  deps.say(`Split ${unitIds.length} unit${unitIds.length === 1 ? "" : "s"} into ${pieces.length} finer units: the draft is now on “${done.layer_name}”.`);
}
