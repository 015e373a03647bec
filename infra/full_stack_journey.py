"""Drives a deployed (or locally emulated) gradphoto over HTTP only, as a browser would:
bureau sets the campaign and imports a school and its roster, a teacher registers and uploads a
photo by presigned PUT, S3's notification runs check-photo, a reviewer approves, the bureau
sees progress and exports. Contract v2: a photo the check rejects for a judgement is appealed,
a reviewer decides a batch from a leased queue page, the bureau reopens an approved photo.
Exits non-zero on the first broken step.

Usage: full_stack_journey.py API_URL BUREAU_USER BUREAU_PASSWORD PHOTO.jpg JUDGED.jpg
(PHOTO passes every check; the check rejects JUDGED for a judgement a person can overrule)
"""

import datetime
import io
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile

API, BUREAU, BUREAU_PW, PHOTO, JUDGED = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
passed = 0


def call(method, path, body=None, token=None, ctype="application/json", raw=False):
    data = None
    headers = {}
    if body is not None:
        if isinstance(body, bytes):
            data = body
        else:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers["content-type"] = ctype
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(API + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            payload = r.read()
            return r.status, (payload if raw else json.loads(payload or b"null"))
    except urllib.error.HTTPError as e:
        payload = e.read()
        try:
            return e.code, json.loads(payload)
        except ValueError:
            return e.code, payload


def step(name, ok, detail=""):
    global passed
    if not ok:
        print(f"FAIL {name}: {detail}")
        print(f"full-stack: {passed} passed, 1 failed")
        sys.exit(1)
    passed += 1
    print(f"ok   {name}")


today = datetime.date.today()
st, b = call("POST", "/api/sessions", {"username": BUREAU, "password": BUREAU_PW})
step("bureau logs in (registration function)", st == 200 and b.get("role") == "bureau", b)
bureau = b["token"]

campaign = {"name": "本地全栈演练", "starts_on": str(today - datetime.timedelta(days=1)), "ends_on": str(today + datetime.timedelta(days=30)),
            "daily_open": "00:00", "daily_close": "24:00", "timezone": "Asia/Shanghai"}
st, b = call("PUT", "/api/admin/campaign", campaign, bureau)
step("bureau sets the campaign (admin function)", st == 200, b)
st, b = call("GET", "/api/window")
step("window is open (window function)", st == 200 and b.get("open") is True, b)

suffix = str(int(time.time()))[-6:]
st, b = call("POST", "/api/admin/schools", f"district,school,stage\n浦东新区,全栈中学{suffix},高中\n", bureau, "text/csv; charset=utf-8")
step("bureau imports a school", st == 201 and len(b.get("schools", [])) == 1, b)
school = b["schools"][0]
sid, appealed, batched, by_parent = f"FS{suffix}", f"FA{suffix}", f"FB{suffix}", f"FP{suffix}"
roster = "".join(f"{school['school_id']},{s},{n},高三(1)班\n" for s, n in [(sid, "张三"), (appealed, "李四"), (batched, "王五"), (by_parent, "赵六")])
st, b = call("POST", "/api/admin/students", "school_id,student_id,name,class\n" + roster, bureau, "text/csv; charset=utf-8")
step("bureau imports the roster", st == 200 and b.get("imported") == 4, b)

code = school["registration_code"]
st, b = call("POST", "/api/registration/verify", {"code": code})
step("teacher verifies the code", st == 200, b)
st, b = call("POST", "/api/registration", {"code": code, "username": f"t{suffix}", "password": "abc12345"})
step("teacher registers", st == 201 and b.get("token"), b)
st, b = call("POST", "/api/registration", {"code": code, "username": f"u{suffix}", "password": "abc12345"})
step("the code is single-use", st == 409, b)
st, b = call("POST", "/api/sessions", {"username": f"t{suffix}", "password": "abc12345"})
step("teacher logs in", st == 200, b)
teacher = b["token"]

def upload(student, photo, want):
    st, b = call("POST", "/api/uploads", {"files": [{"student_id": student, "size": len(photo)}], "content_type": "image/jpeg"}, teacher)
    step(f"uploads function presigns a PUT for {student}", st == 200 and len(b.get("uploads", [])) == 1, b)
    up = b["uploads"][0]
    step("size and type are signed into the URL", "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost" in up["url"], up["url"])
    req = urllib.request.Request(up["url"], data=photo, method="PUT", headers=up["headers"])
    with urllib.request.urlopen(req, timeout=60) as r:
        step("browser PUTs the photo to S3", r.status == 200, r.status)
    status, b = None, {}
    for _ in range(120):
        st, b = call("GET", f"/api/students/{student}", token=teacher)
        status = b.get("status") if st == 200 else b
        if status in ("pending_review", "rejected", "approved"):
            break
        time.sleep(0.5)
    step(f"S3 notification -> check-photo -> {want} (school function)", status == want, b)
    return b


# 自动裁剪: a studio's larger original goes to the uploads function as a binary body (API
# Gateway base64-encodes it; lambda_http decodes it) and the rectangle comes back.
studio = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../crates/core/tests/studio/browser_1.jpg"), "rb").read()
st, b = call("POST", "/api/photo/crop-suggestion", studio, teacher, ctype="image/jpeg")
c = b.get("crop", {}) if st == 200 else {}
step("crop suggestion for a studio original (uploads function, binary body)",
     st == 200 and abs(c.get("w", 0) * 354 - c.get("h", 0) * 272) <= 354 and b.get("findings") == [] and c["x"] + c["w"] <= b["width"], b)
st, b = call("POST", "/api/photo/crop-suggestion", b"not a photo", teacher, ctype="image/jpeg")
step("junk is refused with a code, nothing stored", st == 422 and b["error"]["code"] == "not_jpeg", b)

photo = open(PHOTO, "rb").read()
upload(sid, photo, "pending_review")
judged = upload(appealed, open(JUDGED, "rb").read(), "rejected")
step("the check's judgement is appealable", judged.get("appealable") is True and judged.get("decided_by") == "check", judged)
st, b = call("POST", f"/api/students/{appealed}/appeal", {"photo_id": judged["photo_id"], "note": "白色幕布，灯光偏蓝"}, teacher)
step("teacher appeals (school function writes the transition)", st == 200 and b.get("status") == "pending_review" and b["appeal"]["note"] == "白色幕布，灯光偏蓝", b)
st, b = call("POST", f"/api/students/{appealed}/appeal", {"photo_id": judged["photo_id"]}, teacher)
step("one appeal per photo", st == 409 and b["error"]["code"] == "not_appealable", b)
upload(batched, photo, "pending_review")

st, b = call("POST", "/api/uploads", {"files": [{"student_id": sid, "size": len(photo)}], "content_type": "image/jpeg"}, teacher)
step("a second upload is refused", st == 200 and b["refused"] and b["refused"][0]["code"] == "already_uploaded", b)

# A parent uploads the fourth student's photo with the code the school printed.
st, b = call("POST", "/api/school/parent-codes", {"student_ids": [by_parent]}, teacher)
step("school issues a parent code (school function)", st == 201 and len(b.get("codes", [])) == 1, b)
code = b["codes"][0]["code"]
st, b = call("POST", "/api/parent/sessions", {"student_id": by_parent, "code": "22222-22222"})
step("a wrong parent code is refused (registration function)", st == 401 and b["error"]["code"] == "bad_credentials", b)
st, b = call("POST", "/api/parent/sessions", {"student_id": by_parent, "code": code.lower()})
step("parent logs in with the code", st == 200 and b.get("role") == "parent", b)
parent = b["token"]
st, b = call("POST", "/api/parent/uploads", {"size": len(photo), "content_type": "image/jpeg"}, parent)
step("uploads function presigns the parent's PUT", st == 200 and "url" in b.get("upload", {}), b)
req = urllib.request.Request(b["upload"]["url"], data=photo, method="PUT", headers=b["upload"]["headers"])
with urllib.request.urlopen(req, timeout=60) as r:
    step("the parent's browser PUTs the photo to S3", r.status == 200, r.status)
for _ in range(120):
    st, b = call("GET", "/api/parent/student", token=parent)
    if b.get("status") in ("pending_review", "rejected", "approved"):
        break
    time.sleep(0.5)
step("parent sees 待审核 (school function)", st == 200 and b.get("status") == "pending_review" and b.get("uploaded_by") == "parent", b)
st, b = call("GET", f"/api/students/{sid}", token=parent)
step("a parent token reaches no school route", st == 403, b)
st, b = call("GET", "/api/students?uploaded_by=parent", token=teacher)
step("the school sees who uploaded", st == 200 and [s["student_id"] for s in b["students"]] == [by_parent], b)

st, b = call("POST", "/api/admin/reviewers", {"username": f"r{suffix}", "password": "abc12345"}, bureau)
step("bureau creates a reviewer", st == 201, b)
st, b = call("POST", "/api/sessions", {"username": f"r{suffix}", "password": "abc12345"})
reviewer = b["token"]
st, b = call("GET", f"/api/review/queue?school_id={school['school_id']}", token=reviewer)
items = {i["student_id"]: i for i in b.get("items", [])}
step("review queue leases the four photos, the appeal with its note (review function)",
     st == 200 and set(items) == {sid, appealed, batched, by_parent} and items[appealed]["appeal"]["note"] == "白色幕布，灯光偏蓝" and b.get("lease_seconds") == 600, b)
step("the queue item shows what the check measured, and the check's limits (DynamoDB attribute)",
     80 <= items.get(sid, {}).get("geometry", {}).get("eye_line", -1) <= 188 and b.get("geometry_limits", {}).get("eye_line_max") == 188, b)
st, b = call("POST", f"/api/review/{sid}", {"decision": "approve", "reasons": [], "note": "", "photo_id": items[sid]["photo_id"]}, reviewer)
step("reviewer approves", st == 200 and b.get("status") == "approved", b)
st, b = call("POST", f"/api/review/{sid}", {"decision": "approve", "reasons": [], "note": ""}, reviewer)
step("a second decision is refused", st == 409, b)
batch = [{"student_id": s, "photo_id": items[s]["photo_id"], "decision": d, "reasons": r}
         for s, d, r in [(appealed, "approve", []), (batched, "reject", ["phone_photo"]), (sid, "approve", [])]]
st, b = call("POST", "/api/reviews", {"decisions": batch}, reviewer)
got = [r.get("status") or r["error"]["code"] for r in b.get("results", [])]
step("a batch decides item by item (review function)", st == 200 and got == ["approved", "rejected", "not_pending"], b)
st, b = call("GET", f"/api/students/{appealed}", token=teacher)
step("the approval overruled the check", b.get("decided_by") == "reviewer" and b["appeal"]["overruled"] == ["background_not_white"], b)

st, b = call("GET", "/api/admin/progress", token=bureau)
mine = [s for s in b.get("schools", []) if s["school_id"] == school["school_id"]]
step("progress counts the approvals", st == 200 and mine and mine[0]["counts"]["approved"] == 2, b)
st, b = call("POST", f"/api/admin/students/{appealed}/reopen", {"reasons": ["wrong_person"], "note": "家长反映不是本人"}, bureau)
step("bureau reopens an approved photo (admin function)", st == 200 and b.get("status") == "rejected" and b.get("decided_by") == "reviewer", b)
st, z = call("GET", f"/api/admin/export?school_id={school['school_id']}", token=bureau, raw=True)
names = zipfile.ZipFile(io.BytesIO(z)).namelist() if st == 200 else []
step("export zips the approved photo, not the reopened one",
     f"{school['school_id']}/{sid}.jpg" in names and f"{school['school_id']}/{appealed}.jpg" not in names, names or z)
st, b = call("POST", "/api/admin/exports", {"school_id": school["school_id"]}, bureau)
step("stored export answers a download link (admin function -> S3)", st == 201 and b.get("photos") == 1 and b.get("download_url"), b)
with urllib.request.urlopen(b["download_url"], timeout=60) as r:
    stored = r.read()
    disposition = r.headers.get("content-disposition", "")
names = zipfile.ZipFile(io.BytesIO(stored)).namelist()
step("the link downloads the same ZIP straight from the bucket",
     f"{school['school_id']}/{sid}.jpg" in names and len(stored) == b["bytes"], (names, len(stored), b))
# moto ignores response-content-disposition (real S3 honours it); check it is signed into the link.
query = urllib.parse.parse_qs(urllib.parse.urlsplit(b["download_url"]).query)
step("the link names the file as an attachment",
     query.get("response-content-disposition") == [f'attachment; filename="{b["file"]}"'] and "X-Amz-Signature" in query, query)

# Statistics (issue 15): the counters written with each transition agree with the schools'
# status counters, and the journey's appeal, overrule and uploads are in them.
st, prog = call("GET", "/api/admin/progress", token=bureau)
st2, stats = call("GET", f"/api/admin/stats?district={urllib.parse.quote(school['district'])}", token=bureau)
summed = {}
for x in prog.get("schools", []):
    if x["district"] == school["district"]:
        for k, v in x["counts"].items():
            summed[k] = summed.get(k, 0) + v
overruled = {c["code"]: c["overruled"] for c in stats.get("appeals", {}).get("by_code", [])}
step("stats equal the schools' counters and count the journey (admin function, no scan)",
     st == 200 and st2 == 200 and stats["counts"] == summed and stats["students"] == sum(summed.values())
     and overruled.get("background_not_white", 0) >= 1 and sum(d["uploads"] for d in stats["per_day"]) >= 4
     and [d["district"] for d in stats["by_district"]] == [school["district"]], (stats, summed))

# A district (区县) account: its own schools only, the chase list, and a school's reset.
st, b = call("POST", "/api/admin/accounts", {"role": "district", "district": "浦东新区", "username": f"d{suffix}", "password": "abc12345"}, bureau)
step("bureau creates a district account (admin function)", st == 201 and b.get("district") == "浦东新区", b)
st, b = call("POST", "/api/sessions", {"username": f"d{suffix}", "password": "abc12345"})
step("district logs in", st == 200 and b.get("role") == "district", b)
district = b["token"]
st, b = call("GET", "/api/admin/progress", token=district)
step("district sees only its district's schools", st == 200 and b["schools"] and all(x["district"] == "浦东新区" for x in b["schools"]), b)
st, csv_bytes = call("GET", f"/api/admin/chase.csv?school_id={school['school_id']}", token=district, raw=True)
step("district downloads the chase list", st == 200 and csv_bytes.startswith(b"\xef\xbb\xbf") and "老师用户名" in csv_bytes.decode("utf-8"), csv_bytes[:200])
st, b = call("GET", "/api/admin/stats", token=district)
step("district reads its own stats", st == 200 and [d["district"] for d in b.get("by_district", [])] == ["浦东新区"], b)
st, b = call("GET", "/api/admin/stats?district=" + urllib.parse.quote("黄浦区"), token=district)
step("but not another district's", st == 403, b)
st, b = call("PUT", "/api/admin/campaign", campaign, district)
step("a district cannot change the campaign", st == 403, b)
st, b = call("POST", f"/api/admin/schools/{school['school_id']}/reset", {}, district)
step("district resets the school's account", st == 200 and b.get("registration_code") and b["registration_code"] != code, b)
st, b = call("GET", "/api/school", token=teacher)
step("the old account's session ends (school function)", st == 401, b)

print(f"full-stack: {passed} passed, 0 failed")
