"""boto3 as a command for test/s3api/clients.test.ts: one S3 call per run, JSON in argv[1].

{"op": "put"|"get"|"head"|"list"|"presign", "endpoint", "access", "secret", "bucket", "key",
 "file", "method" (presign: get_object|put_object), "expires", "checksum" (put: CRC32|SHA256|...)}

Path-style addressing, region us-east-1, no retries (a refused signature must fail at once).
TLS trust comes from AWS_CA_BUNDLE. Prints one JSON line: what the call returned.
"""
import json
import sys

import boto3
import botocore
from botocore.config import Config

args = json.loads(sys.argv[1])
config = Config(
    signature_version="s3v4",
    region_name="us-east-1",
    s3={"addressing_style": "path"},
    retries={"max_attempts": 1, "mode": "standard"},
)
s3 = boto3.client(
    "s3",
    endpoint_url=args["endpoint"],
    aws_access_key_id=args["access"],
    aws_secret_access_key=args["secret"],
    config=config,
)
op = args["op"]
out = {"botocore": botocore.__version__}
try:
    if op == "put":
        extra = {"ChecksumAlgorithm": args["checksum"]} if args.get("checksum") else {}
        with open(args["file"], "rb") as f:
            r = s3.put_object(Bucket=args["bucket"], Key=args["key"], Body=f, **extra)
        out["etag"] = r["ETag"]
    elif op == "get":
        r = s3.get_object(Bucket=args["bucket"], Key=args["key"])
        data = r["Body"].read()
        with open(args["file"], "wb") as f:
            f.write(data)
        out["length"] = len(data)
    elif op == "head":
        r = s3.head_object(Bucket=args["bucket"], Key=args["key"])
        out["length"] = r["ContentLength"]
    elif op == "list":
        r = s3.list_objects_v2(Bucket=args["bucket"])
        out["keys"] = [o["Key"] for o in r.get("Contents", [])]
        out["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    elif op == "presign":
        out["url"] = s3.generate_presigned_url(
            args["method"],
            Params={"Bucket": args["bucket"], "Key": args["key"]},
            ExpiresIn=int(args["expires"]),
        )
    else:
        raise SystemExit(f"unknown op {op}")
except botocore.exceptions.ClientError as e:
    out["error"] = e.response["Error"]["Code"]
    print(json.dumps(out))
    sys.exit(1)
print(json.dumps(out))
