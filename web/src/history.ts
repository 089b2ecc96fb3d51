// The edit history of a draft: moves, locks, undo and redo, each a versioned write, one write at a time.
//
// A move is kept with where each unit came from, so undo moves the units back (one write per former territory) and
// redo repeats it. A 412 means someone else edited the alignment: the page shows the conflict, reloads their version
// and drops the history (it no longer describes this version); it never retries over their change.

import { Alignment, Api, ApiError } from "./api";
import { errorText } from "./dom";
import { WriteGate } from "./editing";
import type { MapState, Move } from "./state";

export interface HistoryHost {
  api: Api;
  state: MapState;
  say(text: string, error?: boolean): void;
  showConflict(text: string): void;
  /** Read the alignment again (after a conflict). */
  reload(alignmentId: string): Promise<void>;
  select(unitIds: string[]): void;
  /** Redraw after a write that changed these units. */
  afterEdit(unitIds: string[]): void;
  /** The edit controls' state changed (a write started or ended, the history grew or shrank). */
  changed(): void;
}

const plural = (n: number) => (n === 1 ? "" : "s");

export class EditHistory {
  undoStack: Move[] = [];
  redoStack: Move[] = [];
  /** One write (move, lock, undo, redo, publish, split) at a time. */
  readonly writes: WriteGate;

  constructor(private readonly host: HistoryHost) {
    this.writes = new WriteGate(() => host.changed());
  }

  get writing(): boolean {
    return this.writes.busy;
  }

  run(work: () => Promise<void>): Promise<void> {
    return this.writes.run(work);
  }

  clear(): void {
    this.undoStack = [];
    this.redoStack = [];
  }

  /**
   * Run a versioned write. 412: someone else edited the alignment; show the conflict, reload, drop the undo history
   * (it no longer describes this version) and never retry over their change. 409 with unit_ids: locked units.
   */
  async edit(write: (alignment: Alignment) => Promise<void>): Promise<boolean> {
    const { host } = this;
    const alignment = host.state.current;
    if (!alignment) return false;
    host.state.busy++;
    try {
      await write(alignment);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        const now = e.problem.current_version;
        host.showConflict(
          `Someone else changed “${alignment.name}” (now version ${now ?? "newer"}; you had version ${alignment.version}). ` +
            "Your change was not applied. The map has been reloaded with their version: check it and redo your change.",
        );
        this.clear();
        await host.reload(alignment.id);
      } else if (e instanceof ApiError && e.status === 409 && Array.isArray(e.problem.unit_ids)) {
        const ids = e.problem.unit_ids;
        host.say(`Not moved: ${ids.length} locked unit${plural(ids.length)} (${ids.slice(0, 8).join(", ")}${ids.length > 8 ? "…" : ""}). Unlock them or leave them out.`, true);
        host.select(ids);
      } else {
        host.say(errorText(e), true);
      }
      return false;
    } finally {
      host.state.busy--;
      host.changed();
    }
  }

  /** Move the selected units to `target` (null: white space). */
  async moveSelection(target: string | null): Promise<void> {
    const { state } = this.host;
    const unitIds = [...state.selection].sort();
    if (unitIds.length === 0) return this.host.say("Select units first.");
    const from = new Map<string | null, string[]>();
    for (const u of unitIds) {
      const t = state.territoryOf.get(u) ?? null;
      if (t === target) continue;
      if (!from.has(t)) from.set(t, []);
      from.get(t)!.push(u);
    }
    const moving = [...from.values()].flat();
    if (moving.length === 0) return this.host.say("The selected units are already in that territory.");
    if (await this.applyMove({ unitIds: moving, to: target, from })) {
      this.undoStack.push({ unitIds: moving, to: target, from });
      this.redoStack = [];
      state.selection.clear();
      this.host.afterEdit(moving);
    }
  }

  /** POST the move; false (and a message) when the server refused. */
  async applyMove(move: Move): Promise<boolean> {
    const { api, state } = this.host;
    return this.edit(async (alignment) => {
      const r = await api.move(alignment.id, alignment.version, move.unitIds, move.to);
      state.current = r.alignment;
      for (const u of move.unitIds) state.territoryOf.set(u, move.to);
      this.host.say(`Moved ${r.moved} unit${plural(r.moved)} to ${state.codeOf(move.to)}.`);
    });
  }

  async undo(): Promise<void> {
    const { api, state } = this.host;
    const move = this.undoStack.pop();
    if (!move) return;
    let ok = true;
    for (const [territory, unitIds] of move.from) {
      ok = await this.edit(async (alignment) => {
        const r = await api.move(alignment.id, alignment.version, unitIds, territory);
        state.current = r.alignment;
        for (const u of unitIds) state.territoryOf.set(u, territory);
      });
      if (!ok) break;
    }
    if (ok) {
      this.redoStack.push(move);
      this.host.say(`Undone: ${move.unitIds.length} unit${plural(move.unitIds.length)} back where they were.`);
    }
    this.host.afterEdit(move.unitIds);
  }

  async redo(): Promise<void> {
    const move = this.redoStack.pop();
    if (!move) return;
    if (await this.applyMove(move)) this.undoStack.push(move);
    this.host.afterEdit(move.unitIds);
  }

  async setLock(locked: boolean): Promise<void> {
    const { api, state } = this.host;
    const unitIds = [...state.selection];
    if (unitIds.length === 0) return this.host.say("Select units first.");
    const ok = await this.edit(async (alignment) => {
      state.current = await api.lock(alignment.id, alignment.version, unitIds, locked);
      for (const u of unitIds) (locked ? state.locked.add(u) : state.locked.delete(u));
      this.host.say(`${locked ? "Locked" : "Unlocked"} ${unitIds.length} unit${plural(unitIds.length)}.`);
    });
    if (ok) this.host.afterEdit(unitIds);
  }
}
