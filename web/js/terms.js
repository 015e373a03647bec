// 使用须知: the seed manual's terms, which a teacher accepts before registering and a parent before
// logging in. 我同意 remembers the consent for the tab and goes on; 我不同意 leaves for the home page.
import { getWindow, HELPDESK } from "./api.js";
import { h, replace } from "./ui.js";
import { PHOTO_RULES, UPLOAD_NOTES, DECLARATIONS } from "./text.js";

/**
 * Renders the terms into `main`.
 * - agreedKey: the sessionStorage key that records the consent
 * - onAgree: where 我同意 goes next
 * - ownNotes: the page's own lines of 上传说明, after the shared ones and before the helpdesk line
 */
export async function termsView({ main, agreedKey, onAgree, ownNotes = [] }) {
  let w = null;
  try {
    w = await getWindow();
  } catch {
    /* the banner says so */
  }
  const c = w && w.campaign;
  const hd = (w && w.helpdesk) || HELPDESK;
  const agree = h("button", { type: "button", class: "primary", id: "agree" }, "我同意");
  const disagree = h("button", { type: "button", id: "disagree" }, "我不同意");
  agree.addEventListener("click", () => {
    sessionStorage.setItem(agreedKey, "1");
    onAgree();
  });
  disagree.addEventListener("click", () => {
    sessionStorage.removeItem(agreedKey);
    location.href = "index.html";
  });
  replace(
    main,
    h("h1", {}, "网站使用须知"),
    h(
      "article",
      { class: "card terms", "aria-labelledby": "terms-title" },
      h("h2", { id: "terms-title" }, "学生毕业照片采集系统（使用说明）"),
      h("p", {}, "本次照片采集的主要对象为：应届小学、初中、高中的毕业班学生（制毕业证书）。"),
      c
        ? h("p", {}, `照片上传时间为：${c.starts_on} 至 ${c.ends_on}，每天的 ${c.daily_open}—${c.daily_close} 正常开放。其余时间为系统维护时间，在系统维护时间内，您将无法进入系统进行操作。`)
        : null,
      h("h3", {}, "上传照片要求"),
      h("ul", {}, PHOTO_RULES.map((r) => h("li", {}, r))),
      h("h3", {}, "上传说明"),
      h(
        "ol",
        {},
        UPLOAD_NOTES.map((r) => h("li", {}, r)),
        ownNotes.map((r) => h("li", {}, r)),
        h("li", {}, `如果您在系统操作过程中遇到问题，可以在${hd.hours}，拨打 ${hd.phone} 客服热线进行咨询。`),
        h("li", {}, "重要声明：", h("ul", {}, DECLARATIONS.map((r) => h("li", {}, r))))
      ),
      h("p", { class: "em" }, "如果您接受以上要求，请点击“我同意”进入操作。如果您暂时无法接受以上要求，请点击“我不同意”退出系统。"),
      h("div", { class: "actions" }, agree, disagree)
    )
  );
}
