// What the browser can tell about a photo file before anything is sent: the 学籍副号 from its
// name, JPEG magic bytes, pixel size, declared density and byte size. The server checks all of
// it again (PHOTO_RULES.md); these checks only spare teachers a wasted upload.

import { STATUS } from "./ui.js";

export const PHOTO = { width: 272, height: 354, minDpi: 300, minBytes: 5 * 1024, maxBytes: 1024 * 1024 };
export const STUDENT_ID_RE = /^[A-Za-z0-9]{1,32}$/;

/** 学籍副号 = the file name without its extension ("G3101.jpg" → "G3101"). */
export function studentIdFromName(name) {
  const base = String(name).split(/[\\/]/).pop().trim();
  const dot = base.lastIndexOf(".");
  return (dot > 0 ? base.slice(0, dot) : base).trim();
}

export async function readHead(blob, n = 65536) {
  return new Uint8Array(await blob.slice(0, n).arrayBuffer());
}

export function isJpeg(bytes) {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * Density from the JFIF APP0 segment, in dpi (dots per cm converted), and whether an EXIF APP1
 * is present (the server also accepts EXIF resolution, which we do not parse here).
 * Returns { dpi: number|null, exif: boolean }.
 */
export function jpegDensity(bytes) {
  let dpi = null;
  let exif = false;
  let i = 2;
  while (i + 4 <= bytes.length && bytes[i] === 0xff) {
    const marker = bytes[i + 1];
    if (marker === 0xda || marker === 0xd9) break; // start of scan: no more metadata
    const len = (bytes[i + 2] << 8) | bytes[i + 3];
    const seg = i + 4;
    if (marker === 0xe0 && tag(bytes, seg, "JFIF\0") && seg + 12 <= bytes.length) {
      const unit = bytes[seg + 7];
      const x = (bytes[seg + 8] << 8) | bytes[seg + 9];
      const y = (bytes[seg + 10] << 8) | bytes[seg + 11];
      const d = Math.min(x, y);
      dpi = unit === 1 ? d : unit === 2 ? Math.round(d * 2.54) : null;
    } else if (marker === 0xe1 && tag(bytes, seg, "Exif\0")) {
      exif = true;
    }
    i = seg + len - 2;
  }
  return { dpi, exif };
}

/**
 * The EXIF orientation (1–8) of a JPEG from its head bytes; 1 when it has none. Browsers draw
 * such a photo upright, but a server decoding the bytes sees them as stored: a rotated photo
 * must be re-encoded upright before anything measured on the server is used on the page.
 */
export function exifOrientation(bytes) {
  let i = 2;
  while (i + 4 <= bytes.length && bytes[i] === 0xff) {
    const marker = bytes[i + 1];
    if (marker === 0xda || marker === 0xd9) break;
    const len = (bytes[i + 2] << 8) | bytes[i + 3];
    const seg = i + 4;
    if (marker === 0xe1 && tag(bytes, seg, "Exif\0")) return tiffOrientation(bytes, seg + 6, Math.min(seg + len - 2, bytes.length));
    i = seg + len - 2;
  }
  return 1;
}

/** Tag 0x0112 of IFD0 of the TIFF structure at `t` (EXIF's body), or 1. */
function tiffOrientation(b, t, end) {
  if (t + 8 > end) return 1;
  const le = b[t] === 0x49; // "II": little-endian; "MM": big-endian
  const u16 = (at) => (le ? b[at] | (b[at + 1] << 8) : (b[at] << 8) | b[at + 1]);
  const u32 = (at) => (le ? u16(at) + u16(at + 2) * 65536 : u16(at) * 65536 + u16(at + 2));
  const ifd = t + u32(t + 4);
  if (ifd + 2 > end) return 1;
  for (let k = 0, n = u16(ifd); k < n; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > end) break;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

function tag(bytes, at, text) {
  for (let k = 0; k < text.length; k++) if (bytes[at + k] !== text.charCodeAt(k)) return false;
  return true;
}

/** Pixel size, read by the browser's own decoder; null when it cannot decode the file. */
export async function imageSize(blob) {
  // Older in-app browsers (a chat app's WebView) may lack createImageBitmap: an <img> tells too.
  if (typeof createImageBitmap !== "function") {
    const url = URL.createObjectURL(blob);
    try {
      const img = new Image();
      const ok = await new Promise((res) => ((img.onload = () => res(true)), (img.onerror = () => res(false)), (img.src = url)));
      return ok ? { width: img.naturalWidth, height: img.naturalHeight } : null;
    } finally {
      URL.revokeObjectURL(url);
    }
  }
  try {
    const bmp = await createImageBitmap(blob);
    const size = { width: bmp.width, height: bmp.height };
    bmp.close();
    return size;
  } catch {
    return null;
  }
}

/**
 * Sets the JFIF density of a JPEG to `dpi` dots per inch: patches an existing APP0, or inserts
 * one after SOI (canvas.toBlob writes 72 dpi or no APP0 at all, and the check wants ≥ 300).
 */
export function withJfifDensity(bytes, dpi = 300) {
  if (!isJpeg(bytes)) throw new Error("not a JPEG");
  const hi = (dpi >> 8) & 0xff;
  const lo = dpi & 0xff;
  if (bytes[2] === 0xff && bytes[3] === 0xe0 && tag(bytes, 6, "JFIF\0")) {
    const out = bytes.slice();
    out[13] = 1; // units: dots per inch
    out[14] = hi;
    out[15] = lo;
    out[16] = hi;
    out[17] = lo;
    return out;
  }
  const app0 = [0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x01, hi, lo, hi, lo, 0x00, 0x00];
  const out = new Uint8Array(bytes.length + app0.length);
  out.set(bytes.subarray(0, 2), 0);
  out.set(app0, 2);
  out.set(bytes.subarray(2), 2 + app0.length);
  return out;
}

/**
 * The checks that need only the file: JPEG magic bytes, byte size, pixel size, density.
 * Returns null when the file looks right, else { code, message }.
 */
export async function checkPhotoFile(file, limits = {}) {
  const L = { ...PHOTO, ...limits };
  const fail = (code, message) => ({ code, message });
  const head = await readHead(file);
  if (!isJpeg(head)) return fail("not_jpeg", "文件不是 JPEG 格式的照片（仅改扩展名无效），请上传 .jpg 照片");
  if (file.size > L.maxBytes) return fail("too_large", `照片文件过大（${Math.ceil(file.size / 1024)} KB），不能超过 ${Math.floor(L.maxBytes / 1024)} KB`);
  if (file.size < L.minBytes) return fail("too_small", `照片文件过小（${Math.ceil(file.size / 1024)} KB），可能不是清晰的证件照`);
  const size = await imageSize(file);
  if (!size) return fail("corrupt", "照片无法打开，文件可能已损坏");
  if (size.width !== L.width || size.height !== L.height) {
    return fail("wrong_size", `照片尺寸应为 ${L.width}×${L.height} 像素，当前为 ${size.width}×${size.height}，可用“裁剪助手”调整`);
  }
  const { dpi, exif } = jpegDensity(head);
  if (!exif && (dpi === null || dpi < L.minDpi)) {
    return fail("low_dpi", `照片分辨率应不低于 ${L.minDpi} DPI，当前为 ${dpi === null ? "未标注" : dpi + " DPI"}，可用“裁剪助手”重新生成`);
  }
  return null;
}

/**
 * Whether a photo's only problem is its geometry, which cropping the original fixes (自动裁剪):
 * the wrong pixel size, or too many bytes because it is a large original (not a 272×354 file
 * merely saved too big, which a crop would not help).
 */
export async function onlyGeometry(file, problem, limits = {}) {
  const L = { ...PHOTO, ...limits };
  if (problem.code === "wrong_size") return true;
  if (problem.code !== "too_large") return false;
  const size = await imageSize(file);
  return !!size && (size.width !== L.width || size.height !== L.height);
}

/**
 * Sorts chosen files into those that can go and those that cannot, with a reason a teacher can
 * act on. `roster` maps 学籍副号 → student record; `limits` may override PHOTO.
 * Returns { ok: [{file, student}], bad: [{file, id, code, message}] }; a bad file of a student
 * who may upload and whose only problem is its geometry also carries `student` and
 * `fixable: true` (a crop of it could go).
 */
export async function analyse(files, roster, limits = {}) {
  const L = { ...PHOTO, ...limits };
  const byLower = new Map([...roster.values()].map((s) => [s.student_id.toLowerCase(), s]));
  const seen = new Map();
  const ok = [];
  const bad = [];
  const results = await mapLimit(files, 4, async (file) => {
    const id = studentIdFromName(file.name);
    const student = roster.get(id) || byLower.get(id.toLowerCase());
    const fail = (code, message) => ({ file, id, code, message });
    if (!STUDENT_ID_RE.test(id)) return fail("bad_name", "文件名应为学生的学籍副号（字母和数字），如 G310101.jpg");
    if (!student) return fail("unknown_student", "本校学生名单中没有这个学籍副号，请检查文件名");
    if (!["not_uploaded", "rejected"].includes(student.status)) {
      return fail("already_uploaded", `该学生照片已上传（${student.status_label || statusLabel(student.status)}），每位学生只能成功上传一次`);
    }
    const problem = await checkPhotoFile(file, L);
    if (problem) return { ...fail(problem.code, problem.message), student, fixable: await onlyGeometry(file, problem, L) };
    return { file, student };
  });
  // A photo that passes as it is wins over an original of the same student that needs a crop,
  // wherever it comes in the list.
  const passing = new Map();
  for (const r of results) if (!r.code && !passing.has(r.student.student_id)) passing.set(r.student.student_id, r.file);
  for (const r of results) {
    if (r.code && !r.fixable) {
      bad.push(r);
      continue;
    }
    const sid = r.student.student_id;
    const prev = seen.get(sid) || (r.fixable ? passing.get(sid) : null);
    if (prev) {
      bad.push({ file: r.file, id: sid, code: "duplicate_file", message: `与文件“${prev.name}”是同一个学籍副号，只能上传一张` });
      continue;
    }
    seen.set(sid, r.file);
    (r.code ? bad : ok).push(r);
  }
  return { ok, bad };
}

const statusLabel = (s) => STATUS[s] || s;

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
