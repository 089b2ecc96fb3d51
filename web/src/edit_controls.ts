// The editing controls of the alignment on screen: its state and version, Move / Lock / Undo / Redo / Publish
// enabled for a draft (and only as far as the history, the approval and the caller's rights allow), and what is
// selected.

import type { ApprovalPanel } from "./approval";
import { $ } from "./dom";
import { gateEditing } from "./editing";
import type { EditHistory } from "./history";
import type { PublishFlow } from "./publish_confirm";
import type { SchedulePanel } from "./schedule";
import type { MapState } from "./state";

export interface EditControls {
  state: MapState;
  history: EditHistory;
  approval: ApprovalPanel;
  schedule: SchedulePanel;
  publishFlow: PublishFlow;
}

export function renderEditControls({ state, history, approval, schedule, publishFlow }: EditControls): void {
  const draft = state.current?.state === "draft";
  $("alignment-state").textContent = state.current ? `${state.current.state} · v${state.current.version}` : "";
  $("edit-hint").textContent = draft
    ? "Click a unit to select it, shift-click to add or remove, or drag a box or lasso in a selection mode."
    : "This alignment is not a draft: create a draft from it to edit.";
  for (const id of ["move", "lock", "unlock", "publish", "preview"]) $<HTMLButtonElement>(id).disabled = !draft;
  approval.gate(draft);
  schedule.gate(draft, approval.allowsPublish());
  $<HTMLButtonElement>("undo").disabled = !draft || history.undoStack.length === 0;
  $<HTMLButtonElement>("redo").disabled = !draft || history.redoStack.length === 0;
  publishFlow.sync();
  gateEditing(draft, history.writing);
  const n = state.selection.size;
  const lockedCount = [...state.selection].filter((u) => state.locked.has(u)).length;
  $("selection-info").textContent = n === 0 ? "No units selected." : `${n} unit${n === 1 ? "" : "s"} selected${lockedCount ? ` (${lockedCount} locked)` : ""}.`;
}
