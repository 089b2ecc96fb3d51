// Who may press the editing controls, and one write at a time.
//
// The page offers Move, Lock, Undo, Publish, new drafts and the optimizer only to a signed-in caller whose token
// carries a role that may edit (the services still decide); signed out, or after a service refused the token, they
// are disabled rather than left to fail with 401. A write in flight disables them too, and a second click that
// arrives anyway (a double-click) is ignored: it would carry the version the first one just replaced.

import { Access, accessOf } from "./auth";
import { $ } from "./dom";

/** Controls that change a draft: disabled without the right to edit, and while a write is in flight. */
const WRITES = ["move", "lock", "unlock", "undo", "redo", "publish", "schedule-publish"];

let token: string | null = null;
let refused = false;
let last = { draft: false, writing: false };

/** The token the page sends (null: none). */
export function useToken(given: string | null): void {
  token = given;
  refused = false;
}

/** A service refused the token, or there is none that can work: editing is off until the page signs in again. */
export function markSignedOut(): void {
  refused = true;
  applyGate();
}

export function access(): Access {
  return accessOf(token, !refused);
}

/**
 * After the page has set each control for the alignment on screen (draft or not, approval, undo depth), take away
 * what the caller may not do now. Only ever disables: whether a control is usable at all is the page's to say.
 */
export function gateEditing(draft: boolean, writing: boolean): void {
  last = { draft, writing };
  applyGate();
}

function applyGate(): void {
  const may = access();
  for (const id of WRITES) {
    const button = document.getElementById(id) as HTMLButtonElement | null;
    if (button && (!may.edit || last.writing)) button.disabled = true;
  }
  const preview = document.getElementById("preview") as HTMLButtonElement | null;
  if (preview && !may.preview) preview.disabled = true;
  const create = document.getElementById("create-draft") as HTMLButtonElement | null;
  if (create) create.disabled = !may.edit;
  const optimize = document.getElementById("optimize") as HTMLButtonElement | null;
  if (optimize && !may.edit) optimize.disabled = true;
  const hint = $("edit-hint");
  if (!may.signedIn) hint.textContent = "Sign in to edit: the editing controls are off until then.";
  else if (!may.edit) hint.textContent = "You may look and preview; editing a draft needs a planner or admin token.";
  else if (last.writing) hint.textContent = "Saving your change…";
}

/** Runs one write at a time; a call while one is in flight is ignored (not queued: it was made on stale state). */
export class WriteGate {
  private inFlight = false;

  constructor(private readonly changed: () => void) {}

  get busy(): boolean {
    return this.inFlight;
  }

  async run(work: () => Promise<void>): Promise<void> {
    // Keyboard shortcuts reach here without a button: the same rules hold.
    if (this.inFlight || !access().edit) return;
    this.inFlight = true;
    this.changed();
    try {
      await work();
    } finally {
      this.inFlight = false;
      this.changed();
    }
  }
}
