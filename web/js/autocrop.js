// 自动裁剪: the server proposes where to crop a studio's original (POST /api/photo/crop-suggestion,
// API.md "Crop suggestion") and the page renders that crop from the full-resolution original
// with crop.js's renderCrop/encodeJpeg — a crop and one uniform scale, never a stretch. The one
// client of the route, shared by 批量上传 (batch.js), 裁剪助手 (crop.js) and the parent page.
//
// The route takes at most 4 MiB and 4000 px a side (a Lambda body is base64 under 6 MB), so a
// larger original is downsized here first and the rectangle the server answers is mapped back
// onto the original's own pixels: what is uploaded is cut from the original, not from the copy.
import { api, ApiError } from "./api.js";
import { h } from "./ui.js";
import { readHead, isJpeg, exifOrientation, checkPhotoFile } from "./filecheck.js";
// crop.js imports this module too. Only functions cross that cycle, and only once both modules
// have loaded, so the order in which they are evaluated does not matter.
import { renderCrop, encodeJpeg, clampFrame } from "./crop.js";

export const SUGGEST_PATH = "/api/photo/crop-suggestion";
/** Sent as it is up to here: under the route's 4 MiB with room to spare, and its 4000 px. */
export const SEND_MAX_BYTES = 3 * 1024 * 1024;
export const SEND_MAX_SIDE = 4000;
// The long side of a downsized copy. A head on it is still several times the size it has in the
// 272×354 photo, so our downsizing never earns a too_small_original the original would not.
const DOWNSIZED_SIDE = 2400;
// Height of the picture of the original in a list (drawn at 1.5× for sharp high-DPI screens).
const THUMB_HEIGHT = 180;

/** Answers about the photo itself: asking again will not change them (the file needs a person). */
export const REFUSALS = new Set(["no_face", "multiple_faces", "too_small_original", "not_jpeg", "corrupt", "original_too_large", "body_too_large"]);

export class AutoCropError extends Error {
  /** `refused`: the server judged the photo; otherwise the suggestion could not be had (network, busy, closed). */
  constructor(code, message, refused) {
    super(message);
    this.code = code;
    this.refused = refused;
  }
}

/** An API failure → what the teacher or parent is told, in Chinese. */
function whyNot(e) {
  if (e instanceof AutoCropError) return e;
  if (!(e instanceof ApiError)) return new AutoCropError("error", "无法获取自动裁剪建议，请稍后重试", false);
  if (REFUSALS.has(e.code)) return new AutoCropError(e.code, e.message, true);
  if (e.code === "network") return new AutoCropError("network", "网络连接失败，暂时无法获取自动裁剪建议", false);
  // A server without the route (an older deployment) answers 404/405.
  if (e.status === 404 || e.status === 405) return new AutoCropError("unsupported", "服务器暂不提供自动裁剪建议", false);
  return new AutoCropError(e.code, e.message, false);
}

/** The original decoded upright (as the browser shows it), or null when it cannot be decoded. */
export async function decodeUpright(blob) {
  try {
    return await createImageBitmap(blob, { imageOrientation: "from-image" });
  } catch {
    return null;
  }
}

function canvasJpeg(canvas, quality) {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new AutoCropError("encode", "浏览器无法把照片编码为 JPEG", false))), "image/jpeg", quality)
  );
}

/** The whole picture at `w`×`h`: crop.js's renderCrop with the whole image as the frame. */
const wholeAt = (bitmap, w, h) => renderCrop(bitmap, { x: 0, y: 0, w: bitmap.width, h: bitmap.height }, w, h);

/**
 * What to send for `file` and its pixel size: the file itself when the route takes it as it is;
 * otherwise an upright JPEG drawn from `bitmap` — downsized when the original is large, and also
 * for a PNG or an EXIF-rotated photo, whose stored pixels are not the ones the page shows.
 */
async function requestBody(file, bitmap) {
  const head = await readHead(file);
  const long = Math.max(bitmap.width, bitmap.height);
  const large = file.size > SEND_MAX_BYTES || long > SEND_MAX_SIDE;
  if (!large && isJpeg(head) && exifOrientation(head) === 1) return { blob: file, width: bitmap.width, height: bitmap.height };
  let side = large ? Math.min(long, DOWNSIZED_SIDE) : long;
  for (;;) {
    const k = side / long;
    const canvas = wholeAt(bitmap, Math.max(1, Math.round(bitmap.width * k)), Math.max(1, Math.round(bitmap.height * k)));
    const blob = await canvasJpeg(canvas, 0.9);
    if (blob.size <= SEND_MAX_BYTES || side <= 1000) return { blob, width: canvas.width, height: canvas.height };
    side = Math.round(side * 0.75);
  }
}

/** The server's rectangle on the copy we sent → the same rectangle on the original, at 272:354 exactly. */
export function mapToOriginal(crop, sent, original) {
  const k = original.width / sent.width;
  return clampFrame({ x: crop.x * k, y: crop.y * k, w: crop.w * k }, original.width, original.height);
}

const finite = (...v) => v.every((n) => typeof n === "number" && Number.isFinite(n));

/** An answer about some other picture (or none) must not place a frame. */
function usable(r, sent) {
  const c = r && r.crop;
  return !!c && finite(c.x, c.y, c.w, c.h, r.width, r.height) && c.w > 0 && c.h > 0 && r.width === sent.width && r.height === sent.height;
}

/**
 * Where the server would crop `file` (decoded upright as `bitmap`), on the original's pixels:
 * → { frame: {x, y, w, h}, findings: [{code, message}], sent: {width, height} }.
 * Throws an AutoCropError (refused, or the suggestion could not be had).
 */
export async function suggestCrop(file, bitmap, { role = "school" } = {}) {
  let sent;
  let r;
  try {
    sent = await requestBody(file, bitmap);
    r = await api(SUGGEST_PATH, { method: "POST", role, bytes: sent.blob, contentType: "image/jpeg" });
  } catch (e) {
    throw whyNot(e);
  }
  if (!usable(r, sent)) throw new AutoCropError("bad_answer", "自动裁剪建议与照片不符，请用裁剪助手手动裁剪", false);
  const findings = Array.isArray(r.findings) ? r.findings.filter((f) => f && f.message) : [];
  return { frame: mapToOriginal(r.crop, sent, bitmap), findings, sent: { width: sent.width, height: sent.height } };
}

/** The 272×354, 300 dpi JPEG of `frame` cut from `bitmap` (crop.js), checked like any chosen file. */
export async function renderSuggested(bitmap, frame, limits = {}) {
  let blob;
  try {
    blob = await encodeJpeg(renderCrop(bitmap, frame));
  } catch (e) {
    throw new AutoCropError("encode", e && /[\u4e00-\u9fff]/.test(e.message) ? e.message : "浏览器无法生成 JPEG 照片", true);
  }
  const problem = await checkPhotoFile(blob, limits);
  if (problem) throw new AutoCropError(problem.code, problem.message, true);
  return blob;
}

/** The original, small, with the suggested frame outlined and the rest dimmed: what will be kept. */
export async function framedThumb(bitmap, frame, height = THUMB_HEIGHT) {
  const k = Math.min(height / bitmap.height, (height * 1.5) / bitmap.width);
  const canvas = wholeAt(bitmap, Math.max(1, Math.round(bitmap.width * k)), Math.max(1, Math.round(bitmap.height * k)));
  const g = canvas.getContext("2d");
  const [x, y, w, hh] = [frame.x * k, frame.y * k, frame.w * k, frame.h * k];
  g.fillStyle = "rgba(0, 0, 0, 0.45)";
  g.beginPath();
  g.rect(0, 0, canvas.width, canvas.height);
  g.rect(x, y, w, hh);
  g.fill("evenodd");
  g.strokeStyle = "#ffb300";
  g.lineWidth = 2;
  g.strokeRect(x + 1, y + 1, Math.max(0, w - 2), Math.max(0, hh - 2));
  return canvasJpeg(canvas, 0.85);
}

/**
 * Everything one original needs to be shown and sent: the suggestion, the 272×354 photo cut from
 * the full-resolution original, and a small picture of the original with the frame on it.
 * → { blob, thumb, frame, findings, width, height }. Throws an AutoCropError.
 */
export async function autoCrop(file, { role = "school", limits = {} } = {}) {
  const bitmap = await decodeUpright(file);
  if (!bitmap) throw new AutoCropError("corrupt", "照片无法打开，文件可能已损坏", true);
  try {
    const s = await suggestCrop(file, bitmap, { role });
    const blob = await renderSuggested(bitmap, s.frame, limits);
    const thumb = await framedThumb(bitmap, s.frame);
    return { ...s, blob, thumb, width: bitmap.width, height: bitmap.height };
  } finally {
    bitmap.close();
  }
}

/** Whether a frame is still the suggested one (the teacher has not moved or zoomed it). */
export function sameFrame(a, b, tolerance = 0.5) {
  return !!a && !!b && ["x", "y", "w", "h"].every((k) => Math.abs(a[k] - b[k]) <= tolerance);
}

/** The problems a crop cannot fix, as a list a page shows under the photo. */
export function findingsList(findings, attrs = {}) {
  if (!findings || !findings.length) return null;
  return h("ul", { class: "reasons soft", ...attrs }, findings.map((f) => h("li", { dataset: { code: f.code || "" } }, f.message)));
}
