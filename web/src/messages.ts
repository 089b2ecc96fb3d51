// The page's message line and the conflict banner (someone else changed the alignment being edited).

import { $ } from "./dom";

export function say(text: string, error = false): void {
  const el = $("messages");
  el.textContent = text;
  el.className = error ? "error" : "";
}

export function showConflict(text: string): void {
  const el = $("conflict");
  el.hidden = false;
  el.replaceChildren(document.createTextNode(text + " "));
  const dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.textContent = "Dismiss";
  dismiss.addEventListener("click", () => (el.hidden = true));
  el.append(dismiss);
}
