// Approval of a draft before it is published (geo-service: GET /geo/v1/alignments/{id}/approval, POST .../submit,
// .../approve, .../reject). Shows where the draft stands, who decided what and when, and the actions the signed-in
// user may take; the page asks it whether Publish may be pressed. An admin may publish without approval, as a
// separate, explicit choice (recorded by geo-service as an override).

import { Alignment, Api, ApiError } from "./api";
import { $, errorText, h } from "./dom";
import { formatWhen } from "./format";
import { OpenApiPaths } from "./services";
import type { SignedIn } from "./signin";

export interface ApprovalLevel {
  name: string;
  roles: string[];
  users: string[];
}

export interface ApprovalStep {
  level: number | null;
  decision: "submitted" | "approved" | "rejected" | "overridden";
  by: string;
  comment: string | null;
  at: string;
  version: number;
}

export interface Approval {
  alignment_id: string;
  required: boolean;
  state: "not_required" | "not_submitted" | "pending" | "approved" | "rejected";
  version: number;
  current_level: number | null;
  levels: ApprovalLevel[];
  steps: ApprovalStep[];
  allow_self_approval?: boolean;
}

export interface ApprovalHost {
  api: Api;
  user: SignedIn;
  current(): Alignment | null;
  /** The zone dates are shown in. */
  zone(): string;
  say(text: string, error?: boolean): void;
  /** The approval state changed: Publish and scheduling may have become possible or impossible. */
  changed(): void;
  /** The admin chose to publish without approval. */
  publishOverridingApproval(): Promise<void>;
}

const POLL_MS = 4000;
const DECISIONS: Record<ApprovalStep["decision"], string> = {
  submitted: "Submitted",
  approved: "Approved",
  rejected: "Rejected",
  overridden: "Published without approval",
};

export class ApprovalPanel {
  approval: Approval | null = null;
  available: boolean | null = null;
  private readonly paths: OpenApiPaths;
  private poll: number | null = null;
  private readonly root: HTMLElement;

  constructor(private readonly host: ApprovalHost) {
    this.paths = new OpenApiPaths(host.api, "geo");
    this.root = h(
      "div",
      { id: "approval", class: "approval", hidden: true },
      h("p", { id: "approval-state", class: "approval-state", role: "status", "aria-live": "polite" }),
      h("ol", { id: "approval-steps", class: "approval-steps", "aria-label": "Approval steps" }),
      h(
        "div",
        { class: "tools", id: "approval-actions" },
        h("label", { id: "approval-comment-label" }, "Comment ", h("input", { id: "approval-comment", size: "18", autocomplete: "off" })),
        h("button", { type: "button", id: "approval-submit" }, "Submit for approval"),
        h("button", { type: "button", id: "approval-approve" }, "Approve"),
        h("button", { type: "button", id: "approval-reject" }, "Reject"),
      ),
      h(
        "form",
        { id: "approval-reject-form", class: "tools", hidden: true },
        h("label", {}, "Why reject? ", h("input", { id: "approval-reject-comment", size: "22", autocomplete: "off", required: true })),
        h("button", { type: "submit", id: "approval-reject-confirm" }, "Reject draft"),
        h("button", { type: "button", id: "approval-reject-keep" }, "Keep reviewing"),
      ),
      h("p", { id: "approval-hint", class: "hint" }),
    );
    const override = h(
      "button",
      { type: "button", id: "publish-override", class: "override", hidden: true },
      "Publish without approval (admin override)",
    );
    const note = h("p", { id: "publish-approval-note", class: "hint approval-note", hidden: true });
    $("publish-preview").before(this.root);
    $("publish").after(override, note);
    $("approval-submit").addEventListener("click", () => void this.decide("submit"));
    $("approval-approve").addEventListener("click", () => void this.decide("approve"));
    $("approval-reject").addEventListener("click", () => this.askWhyReject());
    $("approval-reject-keep").addEventListener("click", () => ($("approval-reject-form").hidden = true));
    $("approval-reject-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.reject();
    });
    override.addEventListener("click", () => {
      const name = this.host.current()?.name ?? "this draft";
      if (confirm(`Publish “${name}” without the approval its sales force requires? The override is recorded.`))
        void this.host.publishOverridingApproval();
    });
  }

  /** Whether Publish may be pressed for the alignment on screen (true where no approval is required). */
  allowsPublish(): boolean {
    const current = this.host.current();
    if (!current || !this.available) return true;
    const a = this.approval;
    if (!a || a.alignment_id !== current.id) return false; // not known yet for this alignment
    return !a.required || (a.state === "approved" && a.version === current.version);
  }

  isAdmin(): boolean {
    return this.host.user.roles.includes("admin");
  }

  async refresh(): Promise<void> {
    this.stopPolling();
    const current = this.host.current();
    if (this.available === null) this.available = await this.paths.hasSuffix("/approval", "get");
    if (!current || !this.available) {
      this.approval = null;
      this.render();
      return;
    }
    try {
      const [approval, policy] = await Promise.all([
        this.host.api.get<Approval>(`/geo/v1/alignments/${current.id}/approval`),
        this.policy(current.sales_force),
      ]);
      if (this.host.current()?.id !== current.id) return;
      this.approval = { ...approval, allow_self_approval: policy?.allow_self_approval ?? approval.allow_self_approval };
    } catch (e) {
      this.approval = null;
      $("approval-hint").textContent = `Approval state unavailable: ${errorText(e)}`;
    }
    this.render();
    // Someone else decides at the next level: follow the state while it is pending.
    if (this.approval?.state === "pending") this.poll = window.setTimeout(() => void this.refresh(), POLL_MS);
  }

  /** The sales force's policy (whether a submitter may approve is said there); null where there is none. */
  private async policy(salesForce: string): Promise<{ allow_self_approval: boolean } | null> {
    try {
      return await this.host.api.get(`/geo/v1/sales-forces/${encodeURIComponent(salesForce)}/approval-policy`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }

  private stopPolling(): void {
    if (this.poll !== null) window.clearTimeout(this.poll);
    this.poll = null;
  }

  /** Disable Publish while approval is missing, say why, and offer admins the override. */
  gate(draft: boolean): void {
    const blocked = draft && !this.allowsPublish();
    const publish = $<HTMLButtonElement>("publish");
    if (blocked) publish.disabled = true;
    const note = $("publish-approval-note");
    note.hidden = !blocked;
    note.textContent = blocked
      ? this.approval?.alignment_id === this.host.current()?.id
        ? "Approval required: Publish is enabled once every level has approved this version of the draft."
        : "Checking whether this draft needs approval…"
      : "";
    publish.title = blocked ? note.textContent : "";
    $("publish-override").hidden = !(blocked && this.isAdmin() && this.approval?.required);
  }

  render(): void {
    const a = this.approval;
    const current = this.host.current();
    this.root.hidden = !a;
    const draft = current?.state === "draft";
    this.host.changed();
    if (!a || !current) return;
    const state = $("approval-state");
    state.dataset.state = a.state;
    state.textContent = stateText(a);
    $("approval-steps").replaceChildren(...a.steps.map((s) => this.stepItem(s, a)));

    const pending = a.state === "pending";
    const canSubmit = draft && a.required && (a.state === "not_submitted" || a.state === "rejected");
    const mayDecide = pending && draft && this.qualifies(a);
    $("approval-submit").hidden = !canSubmit;
    $<HTMLButtonElement>("approval-submit").disabled = !this.isDesigner();
    $("approval-approve").hidden = !pending || !draft;
    $("approval-reject").hidden = !pending || !draft;
    $<HTMLButtonElement>("approval-approve").disabled = !mayDecide;
    $<HTMLButtonElement>("approval-reject").disabled = !mayDecide;
    $("approval-actions").hidden = !(canSubmit || (pending && draft));
    if (!mayDecide) $("approval-reject-form").hidden = true;
    $("approval-hint").textContent = this.hint(a, draft, mayDecide);
  }

  private stepItem(s: ApprovalStep, a: Approval): HTMLElement {
    const level = s.level ? a.levels[s.level - 1] : undefined;
    const levelText = s.decision === "submitted" || !s.level ? "" : ` at level ${s.level}${level ? ` (${level.name})` : ""}`;
    const old = s.version !== a.version ? ` · version ${s.version}` : "";
    return h(
      "li",
      { "data-decision": s.decision, "data-by": s.by, "data-level": s.level ? String(s.level) : undefined },
      h("span", { class: `decision ${s.decision}` }, DECISIONS[s.decision] ?? s.decision),
      `${levelText} by `,
      h("b", { class: "by" }, s.by),
      " · ",
      h("time", { datetime: s.at, class: "when" }, formatWhen(s.at, this.host.zone())),
      old,
      s.comment ? h("q", { class: "comment" }, s.comment) : null,
    );
  }

  /** Whether the signed-in user may decide at the current level (geo-service has the last word). */
  qualifies(a: Approval): boolean {
    const level = a.current_level ? a.levels[a.current_level - 1] : undefined;
    const { subject, roles } = this.host.user;
    if (!subject) return true; // an API key: who it is cannot be read here, let geo-service decide
    if (!level) return false;
    const inLevel = level.users.includes(subject) || level.roles.some((r) => roles.includes(r));
    return inLevel && (a.allow_self_approval !== false || submitter(a) !== subject);
  }

  isDesigner(): boolean {
    const { subject, roles } = this.host.user;
    return !subject || roles.includes("admin") || roles.includes("planner");
  }

  private hint(a: Approval, draft: boolean, mayDecide: boolean): string {
    if (!a.required) return "No approval policy for this sales force: a draft can be published directly.";
    if (!draft) return "";
    if (a.state === "approved") return "Approved: the draft can be published or scheduled.";
    if (a.state === "pending" && !mayDecide) {
      const level = a.current_level ? a.levels[a.current_level - 1] : undefined;
      const who = level ? whoText(level) : "the next approver";
      const self = this.host.user.subject && submitter(a) === this.host.user.subject && a.allow_self_approval === false;
      return self ? `You submitted this draft; ${who} decides.` : `Waiting for ${who}.`;
    }
    if (a.state === "pending") return "You may approve or reject this draft at this level.";
    if (!this.isDesigner()) return "A planner submits the draft for approval.";
    return a.state === "rejected"
      ? "Rejected: change the draft if needed and submit it again."
      : "Publishing needs approval: submit the draft when it is ready.";
  }

  private askWhyReject(): void {
    $("approval-reject-form").hidden = false;
    const input = $<HTMLInputElement>("approval-reject-comment");
    input.value = $<HTMLInputElement>("approval-comment").value;
    input.focus();
  }

  private async reject(): Promise<void> {
    const comment = $<HTMLInputElement>("approval-reject-comment").value.trim();
    if (!comment) {
      this.host.say("A rejection needs a comment: say what should change.", true);
      $<HTMLInputElement>("approval-reject-comment").focus();
      return;
    }
    await this.decide("reject", comment);
  }

  private async decide(action: "submit" | "approve" | "reject", rejectComment?: string): Promise<void> {
    const current = this.host.current();
    if (!current) return;
    const comment = rejectComment ?? $<HTMLInputElement>("approval-comment").value.trim();
    try {
      // If-Match: the decision is about the version on screen, not one edited since.
      await this.host.api.request("POST", `/geo/v1/alignments/${current.id}/${action}`, comment ? { comment } : {}, {
        "If-Match": `"${current.version}"`,
      });
      $<HTMLInputElement>("approval-comment").value = "";
      $<HTMLInputElement>("approval-reject-comment").value = "";
      $("approval-reject-form").hidden = true;
      const done = { submit: "Submitted for approval", approve: "Approved", reject: "Rejected" }[action];
      this.host.say(`${done}: “${current.name}”.`);
    } catch (e) {
      this.host.say(errorText(e), true);
    }
    await this.refresh();
  }
}

function submitter(a: Approval): string | null {
  const submitted = a.steps.filter((s) => s.decision === "submitted" && s.version === a.version);
  return submitted.length ? submitted[submitted.length - 1].by : null;
}

function whoText(level: ApprovalLevel): string {
  const who = [...level.users, ...level.roles.map((r) => `a ${r}`)];
  return `${level.name}${who.length ? ` (${who.join(" or ")})` : ""}`;
}

export function stateText(a: Approval): string {
  const m = a.levels.length;
  switch (a.state) {
    case "not_required":
      return "Approval not required.";
    case "not_submitted":
      return `Approval required (${m} level${m === 1 ? "" : "s"}): not submitted.`;
    case "pending": {
      const level = a.current_level ? a.levels[a.current_level - 1] : undefined;
      return `Pending approval at level ${a.current_level ?? "?"} of ${m}${level ? ` (${level.name})` : ""}.`;
    }
    case "approved":
      return `Approved (all ${m} level${m === 1 ? "" : "s"}).`;
    case "rejected":
      return "Rejected.";
  }
  return a.state;
}
