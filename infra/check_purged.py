"""After `gradphoto-aws purge --yes`: nothing personal may be left in the table or the bucket.

Reads everything (a Scan and a full listing: this is a check, not a request path) and fails if
any student, ticket, audit event, hash band, school account or login failure item remains, or
any object under uploads/ or exports/ (parents' pseudonymous login counters, which expire by
TTL, excepted). Usage: check_purged.py TABLE BUCKET (AWS_* env as for moto).
"""

import os
import sys

import boto3

table, bucket = sys.argv[1], sys.argv[2]
kw = {"endpoint_url": os.environ.get("AWS_ENDPOINT_URL"), "region_name": os.environ.get("AWS_REGION", "us-east-1")}
ddb = boto3.client("dynamodb", **kw)
s3 = boto3.client("s3", **kw)

left = []
for page in ddb.get_paginator("scan").paginate(TableName=table):
    for item in page["Items"]:
        pk = item["pk"]["S"]
        # Parents' login counters are keyed by an HMAC (no address or student id in clear) and
        # expire by TTL within a day; a purge cannot enumerate them without a scan.
        if pk.startswith("LOGIN#parent|") and len(pk) == len("LOGIN#parent|") + 32 and "ttl" in item:
            continue
        if pk.startswith(("STUDENT#", "PHASH#", "LOGIN#")):
            left.append(pk + " " + item["sk"]["S"])
        elif pk.startswith("ACCOUNT#") and item.get("role", {}).get("S") == "school":
            left.append(pk)
        elif pk.startswith("SCHOOL#") and "username" in item:
            left.append(pk + " still registered")
objects = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in p.get("Contents", [])]
left += [k for k in objects if k.startswith(("uploads/", "exports/"))]
if left:
    print("purge left personal data:", *left[:20], sep="\n  ")
    sys.exit(1)
schools = sum(1 for p in ddb.get_paginator("scan").paginate(TableName=table) for i in p["Items"] if i["pk"]["S"].startswith("SCHOOL#"))
print(f"purge: nothing personal left in {table} / {bucket}; {schools} school items kept")
