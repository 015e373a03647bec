"""A local stand-in for API Gateway and the S3 trigger, in front of `cargo lambda watch`.

- HTTP: each request is routed by path to the function template.yaml routes it to, and sent to
  cargo lambda watch's function-URL emulation (`/lambda-url/<function>/<path>`), which wraps it
  in the same payload-v2 event API Gateway HTTP APIs send.
- S3 -> check-photo: the bucket (on moto) notifies an SQS queue; this bridge polls the queue and
  invokes check-photo with each record re-shaped into what AWS sends (moto's event JSON lacks
  fields such as eventVersion and userIdentity), with the key URL-encoded the way S3 encodes it.

Usage: gateway.py --port G --lambda http://127.0.0.1:W --moto http://127.0.0.1:M --bucket B
"""

import argparse
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

# (method or None for any, path prefix or exact path, function). Mirrors template.yaml's events.
ROUTES = [
    ("GET", "/api/window", "gp-window"),
    ("POST", "/api/registration/verify", "gp-registration"),
    ("POST", "/api/registration", "gp-registration"),
    ("POST", "/api/sessions", "gp-registration"),
    ("POST", "/api/parent/sessions", "gp-registration"),
    ("POST", "/api/parent/uploads", "gp-uploads"),
    ("GET", "/api/parent/student", "gp-school"),
    ("POST", "/api/parent/appeal", "gp-school"),
    ("POST", "/api/school/parent-codes", "gp-school"),
    ("GET", "/api/school", "gp-school"),
    ("GET", "/api/students.csv", "gp-school"),
    ("GET", "/api/students", "gp-school"),
    ("GET", "/api/students/", "gp-school"),
    ("POST", "/api/students/", "gp-school"),
    ("POST", "/api/uploads", "gp-uploads"),
    ("POST", "/api/photo/crop-suggestion", "gp-uploads"),
    ("GET", "/api/review/queue", "gp-review"),
    ("GET", "/api/review/reasons", "gp-review"),
    ("POST", "/api/review/", "gp-review"),
    ("POST", "/api/reviews", "gp-review"),
    (None, "/api/admin/", "gp-admin"),
]


def route(method, path):
    for m, p, fn in ROUTES:
        if m not in (None, method):
            continue
        if path == p or (p.endswith("/") and path.startswith(p) and len(path) > len(p)):
            return fn
    return None


class Gateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lambda_url = ""

    def log_message(self, fmt, *args):
        pass

    def _handle(self):
        parsed = urllib.parse.urlsplit(self.path)
        fn = route(self.command, parsed.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        if fn is None:
            return self._reply(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
        url = f"{self.lambda_url}/lambda-url/{fn}{self.path}"
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        req = urllib.request.Request(url, data=body, method=self.command, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                self._reply(resp.status, dict(resp.headers.items()), resp.read())
        except urllib.error.HTTPError as e:
            self._reply(e.code, dict(e.headers.items()), e.read())

    def _reply(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


def aws_shaped(record, bucket):
    """moto's S3 notification record, completed into the shape AWS sends."""
    s3 = record.get("s3", {})
    obj = s3.get("object", {})
    # S3 URL-encodes keys in events, spaces as "+".
    key = urllib.parse.quote_plus(urllib.parse.unquote_plus(obj.get("key", "")), safe="/")
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": record.get("awsRegion", "us-east-1"),
        # moto's eventTime has no zone ("...T21:44:12.123"), which AWS's shape (and
        # aws_lambda_events) does not accept: AWS sends RFC 3339 UTC with milliseconds.
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "eventName": record.get("eventName", "ObjectCreated:Put"),
        "userIdentity": {"principalId": "AWS:LOCAL"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "check-photo",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "LOCAL"}, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": key, "size": obj.get("size", 0), "eTag": obj.get("eTag", ""), "sequencer": obj.get("sequencer", "0")},
        },
    }


def bridge(moto, bucket, lambda_url, ready):
    kw = dict(endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    sqs, s3 = boto3.client("sqs", **kw), boto3.client("s3", **kw)
    queue = sqs.create_queue(QueueName=f"{bucket}-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{
                "QueueArn": arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}, {"Name": "suffix", "Value": ".jpg"}]}},
            }]
        },
    )
    ready.set()
    invoke = f"{lambda_url}/2015-03-31/functions/gp-check-photo/invocations"
    while True:
        # No long polling: moto_serial answers one request at a time, a held poll would stall
        # every function's DynamoDB calls.
        msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not msgs:
            time.sleep(0.3)
        for m in msgs:
            body = json.loads(m["Body"])
            records = [aws_shaped(r, bucket) for r in body.get("Records", [])]
            if records:
                data = json.dumps({"Records": records}).encode()
                try:
                    with urllib.request.urlopen(urllib.request.Request(invoke, data=data, method="POST"), timeout=120) as r:
                        print("check-photo:", r.status, r.read().decode()[:300], flush=True)
                except urllib.error.HTTPError as e:
                    # Like Lambda's async retries: leave the message for another delivery.
                    print("check-photo failed:", e.code, e.read().decode()[:300], flush=True)
                    continue
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--lambda", dest="lambda_url", required=True)
    ap.add_argument("--moto", required=True)
    ap.add_argument("--bucket", required=True)
    args = ap.parse_args()
    ready = threading.Event()
    threading.Thread(target=bridge, args=(args.moto, args.bucket, args.lambda_url, ready), daemon=True).start()
    if not ready.wait(60):
        raise SystemExit("gateway: could not set up the S3 notification bridge")
    Gateway.lambda_url = args.lambda_url
    print(f"gateway listening on 127.0.0.1:{args.port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", args.port), Gateway).serve_forever()


if __name__ == "__main__":
    main()
