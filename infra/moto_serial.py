"""moto's S3/DynamoDB/SQS server, answering one request at a time.

`moto_server` runs werkzeug with threaded=True, and moto's TransactWriteItems rolls a failed
transaction back by restoring a deep copy of the whole table taken before it started. With two
requests in flight, that restore silently undoes the other request's committed writes (seen as
lost counter updates in the one-winner tests). Real DynamoDB isolates transactions; serialising
requests restores that property for tests. Same flags as moto_server: -H host -p port.
"""

import argparse
import os
import signal
import sys

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(args.host, args.port, DomainDispatcherApplication(create_backend_app), threaded=False)


if __name__ == "__main__":
    main()
