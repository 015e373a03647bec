// 裁剪助手: turns a larger portrait into the 272×354, 300 dpi JPEG the rules ask for, by
// cropping and uniform scaling only (the frame's aspect ratio is locked, so nothing is ever
// stretched), with guides for where the head should sit. A chosen photo opens with the frame
// the server suggests (自动裁剪, autocrop.js); the teacher may still move or zoom it.
import { h, replace, say, statusChip, formatBytes, filePicker, STATUS } from "./ui.js";
import { PHOTO, withJfifDensity, checkPhotoFile } from "./filecheck.js";
import { uploadOne } from "./upload.js";
import { suggestCrop, sameFrame, findingsList } from "./autocrop.js";

const MAY_UPLOAD = new Set(["not_uploaded", "rejected"]);
const STAGE_MAX = 440; // CSS px of the editing canvas' longer side

// Where a head belongs in the output, as fractions of its width/height: where the server's
// crop suggestion aims (gradphoto_core::photo::Rules): the crown in the middle of the 6–17 px
// band below the top edge (GA 461-2004 scaled to 354 px), the head 62 % of the height
// (`crop_head_ratio`), centred. The check itself allows the bands around these.
export const GUIDE = { headTop: 0.033, chin: 0.653, cx: 0.5, cy: 0.36, rx: 0.3, ry: 0.31 };

/** Largest frame of the output's aspect ratio that fits the image, top-centred. */
export function initialFrame(iw, ih, W = PHOTO.width, H = PHOTO.height) {
  const aspect = W / H;
  let fw = iw * 0.9;
  let fh = fw / aspect;
  if (fh > ih) {
    fh = ih;
    fw = fh * aspect;
  }
  return { x: (iw - fw) / 2, y: 0, w: fw, h: fh };
}

/** Keeps a frame inside the image, with the aspect ratio fixed. */
export function clampFrame(f, iw, ih, W = PHOTO.width, H = PHOTO.height) {
  const aspect = W / H;
  let w = Math.min(Math.max(f.w, W / 4), iw, ih * aspect);
  const hgt = w / aspect;
  const x = Math.min(Math.max(f.x, 0), iw - w);
  const y = Math.min(Math.max(f.y, 0), ih - hgt);
  return { x, y, w, h: hgt };
}

/** Renders the frame to W×H: uniform scale (halving steps for big reductions, then one draw). */
export function renderCrop(source, f, W = PHOTO.width, H = PHOTO.height) {
  let src = source;
  let sx = f.x;
  let sy = f.y;
  let sw = f.w;
  let sh = f.h;
  while (sw > W * 2) {
    const c = document.createElement("canvas");
    c.width = Math.round(sw / 2);
    c.height = Math.round(sh / 2);
    const g = c.getContext("2d");
    g.imageSmoothingQuality = "high";
    g.drawImage(src, sx, sy, sw, sh, 0, 0, c.width, c.height);
    src = c;
    sx = 0;
    sy = 0;
    sw = c.width;
    sh = c.height;
  }
  const out = document.createElement("canvas");
  out.width = W;
  out.height = H;
  const g = out.getContext("2d");
  g.fillStyle = "#fff";
  g.fillRect(0, 0, W, H);
  g.imageSmoothingQuality = "high";
  g.drawImage(src, sx, sy, sw, sh, 0, 0, W, H);
  return out;
}

/** JPEG bytes of a canvas with a JFIF APP0 saying 300 dpi, kept inside the size limits. */
export async function encodeJpeg(canvas, dpi = PHOTO.minDpi) {
  for (const q of [0.92, 0.85, 0.75, 0.6]) {
    const blob = await new Promise((res) => canvas.toBlob(res, "image/jpeg", q));
    if (!blob) throw new Error("浏览器无法把照片编码为 JPEG");
    const bytes = withJfifDensity(new Uint8Array(await blob.arrayBuffer()), dpi);
    if (bytes.length <= PHOTO.maxBytes) return new Blob([bytes], { type: "image/jpeg" });
  }
  throw new Error("照片无法压缩到 1 MB 以内");
}

function drawGuides(g, x, y, w, hh) {
  g.save();
  g.strokeStyle = "rgba(0, 120, 255, 0.9)";
  g.lineWidth = 1.5;
  g.setLineDash([6, 4]);
  g.beginPath();
  g.ellipse(x + GUIDE.cx * w, y + GUIDE.cy * hh, GUIDE.rx * w, GUIDE.ry * hh, 0, 0, Math.PI * 2);
  g.stroke();
  for (const [fy, label] of [
    [GUIDE.headTop, "头顶"],
    [GUIDE.chin, "下巴"],
  ]) {
    g.beginPath();
    g.moveTo(x, y + fy * hh);
    g.lineTo(x + w, y + fy * hh);
    g.stroke();
    g.setLineDash([]);
    // A white halo under the blue text keeps the label readable over dark hair or background.
    g.font = "bold 13px sans-serif";
    g.lineJoin = "round";
    g.lineWidth = 4;
    g.strokeStyle = "rgba(255, 255, 255, 0.95)";
    g.strokeText(label, x + 4, y + fy * hh - 5);
    g.fillStyle = "rgba(0, 70, 170, 1)";
    g.fillText(label, x + 4, y + fy * hh - 5);
    g.strokeStyle = "rgba(0, 120, 255, 0.9)";
    g.lineWidth = 1.5;
    g.setLineDash([6, 4]);
  }
  g.beginPath();
  g.moveTo(x + w / 2, y);
  g.lineTo(x + w / 2, y + hh);
  g.stroke();
  g.restore();
}

export async function cropView(ctx, params) {
  const main = ctx.main;
  const students = (await ctx.loadStudents()).filter((s) => MAY_UPLOAD.has(s.status));
  const wanted = params.get("student");
  const studentSel = h(
    "select",
    { id: "crop-student" },
    h("option", { value: "" }, "（只生成照片，不上传）"),
    students.map((s) => h("option", { value: s.student_id, selected: s.student_id === wanted }, `${s.name}（${s.student_id}，${s.class}）`))
  );
  const filePick = filePicker({ id: "crop-file", text: "选择原始照片…", accept: "image/*", nameText: "尚未选择照片" });
  const fileInput = filePick.input;
  const stage = h("canvas", {
    id: "crop-stage",
    class: "crop-stage",
    tabindex: 0,
    role: "img",
    "aria-label": "取景框：拖动或用方向键移动，+ / − 键缩放",
  });
  const zoom = h("input", { type: "range", id: "crop-zoom", min: 10, max: 100, value: 90, step: 1 });
  const guides = h("input", { type: "checkbox", id: "crop-guides", checked: true });
  const preview = h("canvas", { id: "crop-preview", width: PHOTO.width, height: PHOTO.height, class: "crop-preview", "aria-label": "生成效果预览" });
  const makeBtn = h("button", { type: "button", class: "primary", id: "crop-make", disabled: true }, "生成 272×354 照片");
  const result = h("div", { id: "crop-result", "aria-live": "polite" });
  const editor = h("div", { class: "crop-editor", hidden: true });
  // What the suggestion did for this photo: placed the frame, was refused, or could not be had.
  const note = h("div", { id: "crop-suggest-note", class: "suggest-note", "aria-live": "polite", hidden: true });
  const restore = h("button", { type: "button", class: "small", id: "crop-restore" }, "恢复建议取景");

  let img = null; // ImageBitmap
  let frame = null;
  let scale = 1; // stage px per image px
  let suggestion = null; // { frame, findings } for the photo on the stage, when the server gave one
  let picks = 0; // the latest file choice; an answer for an earlier one is dropped
  // "auto_cropped" is claimed only for a photo framed exactly as suggested.
  const framedAsSuggested = () => !!suggestion && sameFrame(frame, suggestion.frame);

  function fitStage() {
    scale = Math.min(STAGE_MAX / img.width, STAGE_MAX / img.height, 1);
    stage.width = Math.round(img.width * scale);
    stage.height = Math.round(img.height * scale);
  }

  function draw() {
    if (!img) return;
    const g = stage.getContext("2d");
    g.clearRect(0, 0, stage.width, stage.height);
    g.drawImage(img, 0, 0, stage.width, stage.height);
    const x = frame.x * scale;
    const y = frame.y * scale;
    const w = frame.w * scale;
    const hh = frame.h * scale;
    g.fillStyle = "rgba(0,0,0,0.45)";
    g.fillRect(0, 0, stage.width, y);
    g.fillRect(0, y + hh, stage.width, stage.height - y - hh);
    g.fillRect(0, y, x, hh);
    g.fillRect(x + w, y, stage.width - x - w, hh);
    g.strokeStyle = "#fff";
    g.lineWidth = 2;
    g.strokeRect(x, y, w, hh);
    if (guides.checked) drawGuides(g, x, y, w, hh);
    // The frame in image pixels, on the canvas: lets a test check the locked aspect ratio
    // (and so that the output is scaled the same in x and y) after drags and zooms.
    Object.assign(stage.dataset, { frameX: frame.x, frameY: frame.y, frameW: frame.w, frameH: frame.h, outW: PHOTO.width, outH: PHOTO.height, suggested: String(framedAsSuggested()) });
    const out = renderCrop(img, frame);
    const pg = preview.getContext("2d");
    pg.drawImage(out, 0, 0);
    if (guides.checked) drawGuides(pg, 0, 0, PHOTO.width, PHOTO.height);
    drawNote();
  }

  /** The line above the stage: suggested (and still so), moved by hand, refused, or offline. */
  function drawNote() {
    if (!suggestion) return;
    const kept = framedAsSuggested();
    note.dataset.state = kept ? "suggested" : "moved";
    restore.hidden = kept;
    replace(
      note,
      h("p", { class: kept ? "ok" : "hint" }, kept ? "已按建议放置取景框，可拖动调整" : "已手动调整取景框（上传时不再标记为自动裁剪）", " ", restore),
      suggestion.findings.length ? [h("p", { class: "hint" }, "自动检查发现以下问题，裁剪无法解决，请确认或换一张照片："), findingsList(suggestion.findings, { id: "crop-findings" })] : null
    );
  }

  function noteFallback(e) {
    note.hidden = false;
    note.dataset.state = e.refused ? "refused" : "unavailable";
    note.dataset.code = e.code || "";
    replace(note, h("p", { class: e.refused ? "error" : "hint" }, `${String(e.message).replace(/[。.\s]+$/, "")}。已按默认位置放置取景框，请拖动调整。`));
  }

  function setFrame(f) {
    frame = clampFrame(f, img.width, img.height);
    const maxW = Math.min(img.width, (img.height * PHOTO.width) / PHOTO.height);
    zoom.value = String(Math.round((frame.w / maxW) * 100));
    draw();
  }

  restore.addEventListener("click", () => suggestion && setFrame(suggestion.frame));

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files[0];
    if (!file) return;
    const pick = ++picks;
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch {
      say("无法打开这张图片，请选择 JPEG 或 PNG 照片", "error");
      return;
    }
    if (pick !== picks) return bitmap.close();
    if (bitmap.width < PHOTO.width || bitmap.height < PHOTO.height) {
      say(`这张照片只有 ${bitmap.width}×${bitmap.height} 像素，小于 272×354，放大会模糊，请使用更大的原始照片`, "error");
    }
    // The editor opens once the frame is placed, so it never jumps under the teacher's mouse.
    editor.hidden = true;
    makeBtn.disabled = true;
    result.replaceChildren();
    note.hidden = false;
    note.dataset.state = "working";
    replace(note, h("p", { class: "loading" }, "正在分析照片，自动放置取景框…"));
    let found = null;
    try {
      found = await suggestCrop(file, bitmap, { role: ctx.role || "school" });
    } catch (e) {
      if (pick === picks) noteFallback(e);
    }
    if (pick !== picks) return bitmap.close();
    if (img) img.close();
    img = bitmap;
    suggestion = null;
    editor.hidden = false;
    fitStage();
    setFrame(found ? found.frame : initialFrame(img.width, img.height));
    // What setFrame kept (inside the picture, 272:354 exactly) is the frame "unchanged" means.
    if (found) suggestion = { frame: { ...frame }, findings: found.findings };
    draw();
    makeBtn.disabled = false;
  });

  zoom.addEventListener("input", () => {
    if (!img) return;
    const maxW = Math.min(img.width, (img.height * PHOTO.width) / PHOTO.height);
    const w = (maxW * Number(zoom.value)) / 100;
    const cx = frame.x + frame.w / 2;
    const cy = frame.y + frame.h / 2;
    const hh = (w * PHOTO.height) / PHOTO.width;
    frame = clampFrame({ x: cx - w / 2, y: cy - hh / 2, w }, img.width, img.height);
    draw();
  });
  guides.addEventListener("change", draw);

  let drag = null;
  stage.addEventListener("pointerdown", (e) => {
    if (!img) return;
    stage.setPointerCapture(e.pointerId);
    drag = { x: e.clientX, y: e.clientY, fx: frame.x, fy: frame.y };
  });
  stage.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const k = stage.width / stage.getBoundingClientRect().width / scale;
    setFrame({ ...frame, x: drag.fx + (e.clientX - drag.x) * k, y: drag.fy + (e.clientY - drag.y) * k });
  });
  stage.addEventListener("pointerup", () => (drag = null));
  stage.addEventListener("keydown", (e) => {
    if (!img) return;
    const step = (e.shiftKey ? 0.05 : 0.01) * frame.w;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) {
      e.preventDefault();
      setFrame({ ...frame, x: frame.x + moves[e.key][0], y: frame.y + moves[e.key][1] });
    } else if (e.key === "+" || e.key === "=" || e.key === "-") {
      e.preventDefault();
      zoom.value = String(Number(zoom.value) + (e.key === "-" ? 2 : -2));
      zoom.dispatchEvent(new Event("input"));
    }
  });

  makeBtn.addEventListener("click", async () => {
    let blob;
    let problem;
    const autoCropped = framedAsSuggested();
    makeBtn.disabled = true;
    try {
      blob = await encodeJpeg(renderCrop(img, frame));
      problem = await checkPhotoFile(blob, ctx.limits());
    } catch (e) {
      // Encoding can fail (a canvas too big for the device's memory, a browser without JPEG
      // export): say so instead of leaving the teacher with a button that does nothing.
      const text = `生成照片失败：${e && e.message && /[\u4e00-\u9fff]/.test(e.message) ? e.message : "浏览器无法生成 JPEG 照片，请换用较小的原始照片或其他浏览器再试"}`;
      replace(result, h("p", { class: "error", role: "alert", id: "crop-error" }, text));
      say(text, "error");
      return;
    } finally {
      makeBtn.disabled = false;
    }
    const id = studentSel.value;
    const name = `${id || "photo"}.jpg`;
    const url = URL.createObjectURL(blob);
    const upload = h("button", { type: "button", class: "primary", id: "crop-upload", disabled: !id || !!problem }, "上传为该学生照片");
    const status = h("div", { class: "crop-status", "aria-live": "polite" });
    replace(
      result,
      h("img", { src: url, width: PHOTO.width, height: PHOTO.height, alt: "生成的照片", class: "crop-output" }),
      h("p", { id: "crop-info", dataset: { autoCropped: String(autoCropped) } }, `已生成：${PHOTO.width}×${PHOTO.height} 像素，300 DPI，${formatBytes(blob.size)}${autoCropped ? "（按自动裁剪建议）" : ""}`),
      problem ? h("p", { class: "error" }, problem.message) : null,
      h("div", { class: "actions" }, h("a", { class: "button", href: url, download: name }, "下载照片"), upload),
      id ? null : h("p", { class: "hint" }, "如需直接上传，请先在上方选择学生。"),
      status
    );
    upload.addEventListener("click", async () => {
      const student = ctx.students.find((s) => s.student_id === id);
      upload.disabled = true;
      const bar = h("progress", { max: blob.size, value: 0, "aria-label": "上传进度" });
      const text = h("span", {}, "正在上传…");
      replace(status, bar, text);
      try {
        // A page may bring its own upload (the parent page: POST /api/parent/uploads).
        const { record } = await (ctx.uploadOne || uploadOne)(student, blob, { autoCropped, onProgress: (l) => (bar.value = l), onPhase: (p) => p === "check" && (text.textContent = "已发送，正在自动检查…") });
        replace(
          status,
          h("p", {}, `${student.name}：`, statusChip(record.status), autoCropped ? h("span", { class: "tag tag-autocrop" }, "已自动裁剪") : null),
          (record.reasons || []).length ? h("ul", { class: record.status === "rejected" ? "reasons" : "reasons soft" }, record.reasons.map((r) => h("li", { dataset: { code: r.code } }, r.message))) : null
        );
        say(`${student.name}：${STATUS[record.status]}`);
      } catch (e) {
        replace(status, h("p", { class: "error", role: "alert" }, `上传失败：${e.message}`));
        upload.disabled = false;
      }
    });
  });

  editor.append(
    h(
      "div",
      { class: "crop-panes" },
      h("div", { class: "crop-left" }, stage, h("div", { class: "field inline" }, h("label", { for: "crop-zoom" }, "取景大小"), zoom), h("div", { class: "field inline" }, guides, h("label", { for: "crop-guides" }, "显示头部位置参考线"))),
      h("div", { class: "crop-right" }, h("p", { class: "hint" }, "效果预览（272×354）"), preview, h("div", { class: "actions" }, makeBtn)),
      result
    )
  );

  replace(
    main,
    h("h1", {}, "裁剪助手"),
    h(
      "p",
      {},
      "选择一张较大的正面证件照，系统会按照片要求自动放置取景框；如需调整，拖动取景框（或用方向键）让头顶靠近“头顶”线、下巴靠近“下巴”线、面部居中。照片按比例缩放，不会拉伸变形，生成 272×354 像素、300 DPI 的 JPEG 照片。"
    ),
    h(
      "div",
      { class: "card toolbar" },
      h("div", { class: "field" }, h("label", { for: "crop-student" }, "学生"), studentSel),
      h("div", { class: "field" }, h("span", { class: "field-label", "aria-hidden": "true" }, "原始照片"), filePick.el)
    ),
    note,
    editor
  );
}
