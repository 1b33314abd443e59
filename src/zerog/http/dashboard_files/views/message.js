// The job page's message box: send a JSON value to the job (POST /api/jobs/{uuid}/messages),
// which reads it with job_log.messages(). What the operator types is sent as typed and never
// shown as HTML; the answer and any refusal are shown as text.

import { ApiFailure, enc, postJson } from "../api.js";
import { h, message } from "../dom.js";

/** The box for the job ``uuid()`` names; ``after`` runs once a message was accepted. */
export function messageBox(ctx, uuid, after) {
  const text = h("textarea", { class: "message-input", rows: "3", "aria-label": "message (JSON)",
    placeholder: '{"rate": 5}', spellcheck: "false" });
  const idle = h("input", { type: "checkbox", class: "message-idle" });
  const status = h("div", { class: "message-status", role: "status" });
  const send = async () => {
    let body;
    try {
      body = JSON.parse(text.value);
    } catch (error) {
      status.replaceChildren(message(`not JSON: ${error.message}`, "error"));
      return;
    }
    try {
      const answer = await postJson(`api/jobs/${enc(uuid())}/messages`,
        { message: body, queue_if_idle: idle.checked });
      status.replaceChildren(message(answer.queued
        ? `kept for the job's next run (it is ${answer.state})`
        : "sent: the job reads it within seconds"));
      text.value = "";
      await after();
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      status.replaceChildren(message(`message refused: ${error.message}`, "error"));
    }
  };
  return h("div", { class: "message-box" }, text,
    h("label", {}, idle, " if it is not running, keep it for its next run"),
    h("button", { type: "button", "data-action": "message", onclick: () => ctx.guard(send) }, "send"),
    status);
}
