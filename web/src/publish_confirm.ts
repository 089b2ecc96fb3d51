// Publishing, asked first. "Publish this draft" opens a dialog in the page that says what publishing the draft on
// screen will do, from assignment-service's realignment preview (`POST /assignment/v1/realignments/preview`): the
// units that change territory against the active alignment, how many accounts and reps change, and per rep (by
// name) the accounts gained and lost. Nothing is published until the planner confirms; the dialog then follows the
// publish through to the realignment run and shows its result per rep.
//
// The Publish section's preview panel shows the same figures, and always for the draft on screen: another
// alignment, a new version, or an active alignment since archived clears it.

import type { Alignment, Api, Territory } from "./api";
import { changedUnits } from "./compare";
import { $, errorText, h } from "./dom";
import { completedRun, renderRunSummary, repNames, repTable } from "./realignment";
import type { Assignment, PublishPreview } from "./services";

export interface PublishHost {
  api: Api;
  assignment: Assignment;
  current(): Alignment | null;
  /** The alignments of the sales force on screen, as last listed. */
  alignments(): Alignment[];
  territoryOf(): Map<string, string | null>;
  territories(): Territory[];
  /** Publish the draft on screen (a versioned write); the page calls `published` when it went through. */
  publish(): Promise<void>;
}

/** What publishing a draft would change, as worked out for one version of it. */
interface Preview {
  draft: Alignment;
  active: Alignment | null;
  unitsChanged: number | null;
  accounts: PublishPreview | null;
  names: Map<string, string>;
}

const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

export class PublishFlow {
  /** What the preview panel shows (null: nothing). */
  private shown: Preview | null = null;
  /** The draft whose publish the dialog follows, once confirmed. */
  private publishing: string | null = null;
  private readonly published = new Set<string>();
  private readonly dialog: HTMLDialogElement;

  constructor(private readonly host: PublishHost) {
    this.dialog = h(
      "dialog",
      { id: "publish-dialog", class: "publish-dialog", "aria-labelledby": "publish-dialog-h" },
      h("h2", { id: "publish-dialog-h" }, "Publish this draft?"),
      h("div", { id: "publish-dialog-body", class: "publish-dialog-body" }),
      h("p", { id: "publish-dialog-status", class: "hint", role: "status", "aria-live": "polite" }),
      h("div", { id: "publish-dialog-result", class: "run-summary" }),
      h(
        "div",
        { class: "tools dialog-actions" },
        h("button", { type: "button", id: "publish-confirm", class: "primary" }, "Publish"),
        h("button", { type: "button", id: "publish-cancel" }, "Cancel"),
        h("button", { type: "button", id: "publish-close", hidden: true }, "Close"),
      ),
    ) as HTMLDialogElement;
    document.body.append(this.dialog);
    $("publish-confirm").addEventListener("click", () => void this.go());
    $("publish-cancel").addEventListener("click", () => this.close());
    $("publish-close").addEventListener("click", () => this.close());
    // Escape closes the dialog, except while the publish it started is on its way.
    this.dialog.addEventListener("cancel", (e) => {
      if (this.publishing && !$("publish-confirm").hidden) e.preventDefault();
    });
    this.dialog.addEventListener("close", () => {
      this.publishing = null;
      $("publish-dialog-status").classList.remove("error-text");
    });
  }

  /** "Preview changes": fill the preview panel for the draft on screen. */
  async preview(): Promise<void> {
    const draft = this.host.current();
    if (!draft) return;
    $("publish-preview").replaceChildren(h("p", {}, "Reading the realignment preview of this draft…"));
    const preview = await this.compute(draft);
    if (!this.isOnScreen(preview.draft)) return;
    this.show(preview);
  }

  /** Clear the preview panel when it no longer describes the draft on screen (called whenever the page redraws). */
  sync(): void {
    const s = this.shown;
    if (!s) return;
    const current = this.host.current();
    const activeStill = !s.active || this.host.alignments().some((a) => a.id === s.active!.id && a.state === "active");
    if (!current || !this.isOnScreen(s.draft) || current.state !== s.draft.state || !activeStill) {
      this.shown = null;
      $("publish-preview").replaceChildren();
    }
  }

  /** "Publish this draft": ask first, with what it will change. */
  async confirm(): Promise<void> {
    const draft = this.host.current();
    if (!draft || draft.state !== "draft" || this.dialog.open) return;
    this.publishing = null;
    $("publish-dialog-h").textContent = `Publish “${draft.name}”?`;
    $("publish-dialog-body").replaceChildren(h("p", {}, "Reading the realignment preview of this draft…"));
    $("publish-dialog-status").textContent = "";
    $("publish-dialog-result").replaceChildren();
    this.buttons("asking");
    $<HTMLButtonElement>("publish-confirm").disabled = true;
    this.dialog.showModal();
    let preview: Preview | null = null;
    try {
      preview = await this.compute(draft);
    } catch (e) {
      $("publish-dialog-body").replaceChildren(
        h("p", {}, `Publishing “${draft.name}” makes it the active alignment of ${draft.sales_force}.`),
        h("p", { class: "error-text" }, `What it changes could not be worked out: ${errorText(e)}`),
      );
    }
    if (!this.dialog.open || !this.isOnScreen(draft)) return;
    if (preview) {
      this.show(preview);
      $("publish-dialog-body").replaceChildren(...this.describe(preview, true));
    }
    $<HTMLButtonElement>("publish-confirm").disabled = false;
    $("publish-confirm").focus();
  }

  /** The page's publish went through: show the realignment it causes, in the dialog if it asked for it. */
  publishedNow(alignment: Alignment): void {
    this.published.add(alignment.id);
    const inDialog = this.dialog.open && this.publishing === alignment.id;
    if (inDialog) {
      $("publish-dialog-h").textContent = `Published “${alignment.name}”`;
      $("publish-dialog-body").replaceChildren(
        h("p", {}, `“${alignment.name}” is now the active alignment of ${alignment.sales_force}.`),
      );
      $("publish-dialog-status").textContent = "Waiting for assignment-service to realign the accounts…";
      this.buttons("done");
    }
    void this.showRun(alignment, inDialog);
  }

  private async go(): Promise<void> {
    const draft = this.host.current();
    if (!draft || this.publishing) return;
    this.publishing = draft.id;
    $<HTMLButtonElement>("publish-confirm").disabled = true;
    $<HTMLButtonElement>("publish-cancel").disabled = true;
    $("publish-dialog-status").textContent = "Publishing…";
    await this.host.publish();
    if (this.published.has(draft.id)) return;
    // Refused (a conflict, approval, a lost sign-in): the page has said why; say it here too.
    const conflict = $("conflict");
    const why = (conflict.hidden ? $("messages").textContent : conflict.firstChild?.textContent) ?? "";
    $("publish-dialog-status").textContent = `Not published. ${why.trim()}`;
    $("publish-dialog-status").classList.add("error-text");
    this.publishing = null;
    this.buttons("done");
  }

  private close(): void {
    this.dialog.close();
  }

  private buttons(stage: "asking" | "done"): void {
    $("publish-confirm").hidden = stage !== "asking";
    $("publish-cancel").hidden = stage !== "asking";
    $("publish-close").hidden = stage !== "done";
    $<HTMLButtonElement>("publish-cancel").disabled = false;
  }

  private async showRun(alignment: Alignment, inDialog: boolean): Promise<void> {
    const summary = $("publish-summary");
    summary.textContent = "Waiting for assignment-service to realign the accounts…";
    const targets = () => [summary, ...(inDialog && this.dialog.open ? [$("publish-dialog-result")] : [])];
    try {
      const [run, names] = await Promise.all([
        completedRun(this.host.api, alignment.sales_force, alignment.id),
        repNames(this.host.api),
      ]);
      for (const el of targets()) {
        if (run) renderRunSummary(el, run, names);
        else el.textContent = "assignment-service has not reported the realignment yet: check its runs later.";
      }
    } catch (e) {
      for (const el of targets()) el.textContent = `Realignment summary unavailable: ${errorText(e)}`;
    }
    if (inDialog) $("publish-dialog-status").textContent = "";
  }

  private isOnScreen(a: Alignment): boolean {
    const current = this.host.current();
    return !!current && current.id === a.id && current.version === a.version;
  }

  private async compute(draft: Alignment): Promise<Preview> {
    const active =
      this.host.alignments().find((a) => a.state === "active" && a.id !== draft.id && a.sales_force === draft.sales_force) ??
      null;
    const territoryOf = this.host.territoryOf();
    const territories = this.host.territories();
    const [unitsChanged, accounts, names] = await Promise.all([
      active
        ? Promise.all([this.host.api.memberships(active.id), this.host.api.territories(active.id)]).then(
            ([memberships, activeTerritories]) =>
              changedUnits(new Map(memberships.map((m) => [m.unit_id, m.territory_id])), activeTerritories, territoryOf, territories)
                .size,
          )
        : Promise.resolve(null),
      this.host.assignment.preview(draft.id),
      repNames(this.host.api),
    ]);
    return { draft, active, unitsChanged, accounts, names };
  }

  private show(preview: Preview): void {
    this.shown = preview;
    $("publish-preview").replaceChildren(...this.describe(preview, false));
  }

  /** The preview in sentences and a table per rep; `asking`: the dialog's wording, which says what happens. */
  private describe(p: Preview, asking: boolean): Node[] {
    const out: Node[] = [];
    if (asking) {
      out.push(
        h(
          "p",
          {},
          `Publishing “${p.draft.name}” makes it the active alignment of ${p.draft.sales_force}` +
            (p.active ? ` in place of “${p.active.name}”, which is archived.` : "."),
        ),
      );
    }
    if (p.active && p.unitsChanged !== null) {
      out.push(h("p", {}, `${plural(p.unitsChanged, "unit")} change territory against the active “${p.active.name}”.`));
    } else if (!p.active) out.push(h("p", {}, "No active alignment yet: publishing makes this one active."));
    const a = p.accounts;
    if (!a) {
      out.push(h("p", {}, "Gained and lost accounts appear here when assignment-service offers a preview."));
      return out;
    }
    const reps = (a.reps ?? []).filter((r) => r.accounts_gained || r.accounts_lost);
    const named = reps.filter((r) => r.rep_external_id).length;
    const potential = a.potential_moved ? ` (potential ${a.potential_moved.toLocaleString("en-US")})` : "";
    out.push(
      h(
        "p",
        { class: "preview-counts" },
        `${plural(a.accounts_moved, "account")} change owner${potential}; ${plural(named, "rep")} gain or lose accounts.`,
      ),
    );
    if (reps.length) out.push(repTable(reps, p.names, "confirm-reps", "Accounts each rep gains and loses"));
    return out;
  }
}
