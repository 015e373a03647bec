// The login form every entry uses: POST /api/sessions, keep the token for the account's role.
import { api, session } from "./api.js";
import { h } from "./ui.js";

const PAGES = { school: "school.html", reviewer: "review.html", bureau: "bureau.html", district: "bureau.html" };

/**
 * `roles`: the roles this page serves; another role's account is sent to its own page.
 * `onSuccess(res)` runs after the token is stored.
 */
export function loginForm({ roles, onSuccess, idPrefix = "login", extra = null }) {
  const user = h("input", { id: `${idPrefix}-user`, name: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: `${idPrefix}-pass`, name: "password", type: "password", autocomplete: "current-password", required: true });
  const err = h("p", { class: "form-error", role: "alert", id: `${idPrefix}-error` });
  const submit = h("button", { type: "submit", class: "primary" }, "登录");
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    h("div", { class: "field" }, h("label", { for: user.id }, "用户名"), user),
    h("div", { class: "field" }, h("label", { for: pass.id }, "密码"), pass),
    err,
    h("div", { class: "actions" }, submit),
    extra
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    if (!user.value.trim() || !pass.value) {
      err.textContent = "请输入用户名和密码";
      return;
    }
    submit.disabled = true;
    submit.textContent = "正在登录…";
    try {
      const res = await api("/api/sessions", { method: "POST", body: { username: user.value.trim(), password: pass.value } });
      session.set(res.role, res.token);
      if (!roles.includes(res.role)) {
        location.href = PAGES[res.role] || "index.html";
        return;
      }
      await onSuccess(res);
    } catch (e) {
      err.textContent = e.message;
    } finally {
      submit.disabled = false;
      submit.textContent = "登录";
    }
  });
  return form;
}
