// The publish section: preview the realignment of the draft on screen, and publish it (after the confirmation that
// publish_confirm.ts shows) as a versioned write through the edit history; then show the newly active alignment.

import type { Api } from "./api";
import { $ } from "./dom";
import type { EditHistory } from "./history";
import { PublishFlow } from "./publish_confirm";
import type { Assignment } from "./services";
import type { MapState } from "./state";

export interface PublishSectionHost {
  api: Api;
  assignment: Assignment;
  state: MapState;
  history: EditHistory;
  say(text: string, error?: boolean): void;
  guard(work: () => Promise<void>): Promise<void>;
  /** Show the sales force's alignments, this one on screen. */
  showSalesForce(force: string, alignmentId: string): Promise<void>;
}

export class PublishSection {
  readonly flow: PublishFlow;

  constructor(private readonly host: PublishSectionHost) {
    const { state } = host;
    this.flow = new PublishFlow({
      api: host.api,
      assignment: host.assignment,
      current: () => state.current,
      alignments: () => state.alignments,
      territoryOf: () => state.territoryOf,
      territories: () => state.territories,
      publish: () => host.history.run(() => this.publish()),
    });
    $("preview").addEventListener("click", () => void this.preview());
    $("publish").addEventListener("click", () => void this.flow.confirm());
  }

  async preview(): Promise<void> {
    await this.host.guard(() => this.flow.preview());
  }

  async publish(overrideApproval = false): Promise<void> {
    const { api, state } = this.host;
    const ok = await this.host.history.edit(async (alignment) => {
      state.current = await api.publish(alignment.id, alignment.version, overrideApproval);
      this.host.say(`Published “${alignment.name}”: it is now the active alignment of ${alignment.sales_force}.`);
    });
    if (ok && state.current) {
      const published = state.current;
      this.flow.publishedNow(published);
      await this.host.guard(() => this.host.showSalesForce(published.sales_force, published.id));
    }
  }
}
