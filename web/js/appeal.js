// 申请人工复核: the appeal form the teacher's roster (in a dialog) and the parent page (inline) share:
// an optional note with a live count, its length checked before sending, the server's refusal shown.
import { h } from "./ui.js";

export const APPEAL_NOTE_MAX = 200;
const chars = (t) => [...t].length;

/**
 * Builds the form; the caller places it.
 * - attrs: the <form>'s own attributes (id, method, hidden…)
 * - intro: what stands above the note
 * - placeholder, okText: the note's example and the submit button's text
 * - cancelId, onCancel: the 取消 button
 * - send(note): sends the appeal (the page's own route); its answer goes to onDone
 * - onUnauthenticated(): a 401 (the api hook has already moved to the login)
 * - onStale(e): the photo changed or is no longer appealable, after the message is shown
 * Returns { form, note } (note: the textarea, to focus).
 */
export function appealForm({ attrs = {}, intro = [], placeholder, okText, cancelId, onCancel, send, onDone, onUnauthenticated = () => {}, onStale = () => {} }) {
  const note = h("textarea", { id: "appeal-note", rows: 3, maxlength: APPEAL_NOTE_MAX, "aria-describedby": "appeal-count", placeholder });
  const count = h("span", { id: "appeal-count", class: "hint" }, `0/${APPEAL_NOTE_MAX}`);
  note.addEventListener("input", () => {
    const n = chars(note.value);
    count.textContent = `${n}/${APPEAL_NOTE_MAX}`;
    count.className = n > APPEAL_NOTE_MAX ? "hint bad" : "hint";
  });
  const err = h("p", { class: "form-error", role: "alert", id: "appeal-error" });
  const ok = h("button", { type: "submit", class: "primary", id: "appeal-ok" }, okText);
  const cancel = h("button", { type: "button", id: cancelId, onclick: onCancel }, "取消");
  const form = h(
    "form",
    { ...attrs, novalidate: true },
    intro,
    h("div", { class: "field" }, h("label", { for: "appeal-note" }, `说明（可选，${APPEAL_NOTE_MAX} 字以内）`), note, count),
    err,
    h("div", { class: "actions" }, ok, cancel)
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    // Line breaks are kept; any other control character is refused by the server (bad_note).
    const text = note.value.trim();
    if (chars(text) > APPEAL_NOTE_MAX) {
      err.textContent = `说明不能超过 ${APPEAL_NOTE_MAX} 字（现在 ${chars(text)} 字）`;
      return;
    }
    ok.disabled = true;
    try {
      onDone(await send(text));
    } catch (e) {
      if (e.status === 401) return onUnauthenticated();
      err.textContent = e.message;
      if (e.code === "photo_changed" || e.code === "not_appealable") await onStale(e);
    } finally {
      ok.disabled = false;
    }
  });
  return { form, note };
}
