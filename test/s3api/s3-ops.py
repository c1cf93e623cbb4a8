"""boto3 against perch's S3 API, for test/s3api/s3-clients.test.ts: one call per run, JSON in argv[1].

{"op", "endpoint", "access", "secret", "bucket", "key", ...op's own fields}; prints one JSON line
with what the call returned, or {"error": code, "status": http status} and exits 1.
Path-style addressing, region us-east-1, no retries.
"""
import json
import sys

import boto3
import botocore
from botocore.config import Config

args = json.loads(sys.argv[1])
s3 = boto3.client(
    "s3",
    endpoint_url=args["endpoint"],
    aws_access_key_id=args.get("access"),
    aws_secret_access_key=args.get("secret"),
    # "verify": a CA bundle to trust (TLS); "unsigned": send no signature at all (the anonymous user).
    verify=args.get("verify", True),
    config=Config(
        signature_version=botocore.UNSIGNED if args.get("unsigned") else "s3v4",
        region_name="us-east-1",
        s3={"addressing_style": args.get("style", "path")},
        retries={"max_attempts": 1, "mode": "standard"},
    ),
)
op = args["op"]
b = args.get("bucket")
k = args.get("key")
out = {}
try:
    if op == "create_bucket":
        s3.create_bucket(Bucket=b)
    elif op == "put":
        extra = {}
        if "content_type" in args:
            extra["ContentType"] = args["content_type"]
        if "metadata" in args:
            extra["Metadata"] = args["metadata"]
        with open(args["file"], "rb") as f:
            out["etag"] = s3.put_object(Bucket=b, Key=k, Body=f, **extra)["ETag"]
    elif op == "upload_file":
        # boto3's managed transfer: multipart above 8 MiB, in 8 MiB parts.
        s3.upload_file(args["file"], b, k)
        out["etag"] = s3.head_object(Bucket=b, Key=k)["ETag"]
    elif op == "download_file":
        s3.download_file(b, k, args["file"])
    elif op == "get":
        extra = {}
        for name in ("Range", "IfMatch", "IfNoneMatch", "IfModifiedSince", "IfUnmodifiedSince"):
            if name in args:
                extra[name] = args[name]
        r = s3.get_object(Bucket=b, Key=k, **extra)
        data = r["Body"].read()
        if "file" in args:
            with open(args["file"], "wb") as f:
                f.write(data)
        out.update(length=len(data), etag=r["ETag"], content_type=r["ContentType"], metadata=r["Metadata"], text=data[:64].decode("latin-1"), content_range=r.get("ContentRange"))
    elif op == "head":
        r = s3.head_object(Bucket=b, Key=k)
        out.update(length=r["ContentLength"], etag=r["ETag"], metadata=r["Metadata"])
    elif op == "list":
        extra = {n: args[n] for n in ("Prefix", "Delimiter", "StartAfter") if n in args}
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=b, PaginationConfig={"PageSize": args.get("page", 1000)}, **extra)
        out.update(keys=[], prefixes=[], pages=0)
        for p in pages:
            out["pages"] += 1
            out["keys"] += [o["Key"] for o in p.get("Contents", [])]
            out["prefixes"] += [c["Prefix"] for c in p.get("CommonPrefixes", [])]
    elif op == "list_v1":
        extra = {n: args[n] for n in ("Prefix", "Delimiter") if n in args}
        pages = s3.get_paginator("list_objects").paginate(Bucket=b, PaginationConfig={"PageSize": args.get("page", 1000)}, **extra)
        out.update(keys=[], prefixes=[], pages=0)
        for p in pages:
            out["pages"] += 1
            out["keys"] += [o["Key"] for o in p.get("Contents", [])]
            out["prefixes"] += [c["Prefix"] for c in p.get("CommonPrefixes", [])]
    elif op == "list_buckets":
        out["buckets"] = [x["Name"] for x in s3.list_buckets()["Buckets"]]
    elif op == "copy":
        r = s3.copy_object(Bucket=b, Key=k, CopySource={"Bucket": args["source_bucket"], "Key": args["source_key"]})
        out["etag"] = r["CopyObjectResult"]["ETag"]
    elif op == "delete":
        s3.delete_object(Bucket=b, Key=k)
    elif op == "delete_objects":
        r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": x} for x in args["keys"]]})
        out["deleted"] = sorted(d["Key"] for d in r.get("Deleted", []))
        out["errors"] = [[e["Key"], e["Code"]] for e in r.get("Errors", [])]
    elif op == "delete_bucket":
        s3.delete_bucket(Bucket=b)
    elif op == "head_bucket":
        s3.head_bucket(Bucket=b)
    elif op == "location":
        out["location"] = s3.get_bucket_location(Bucket=b).get("LocationConstraint")
    elif op == "multipart_small_part":
        u = s3.create_multipart_upload(Bucket=b, Key=k)["UploadId"]
        p1 = s3.upload_part(Bucket=b, Key=k, UploadId=u, PartNumber=1, Body=b"x" * 1024)["ETag"]
        p2 = s3.upload_part(Bucket=b, Key=k, UploadId=u, PartNumber=2, Body=b"y" * 10)["ETag"]
        out["parts"] = [p["PartNumber"] for p in s3.list_parts(Bucket=b, Key=k, UploadId=u)["Parts"]]
        out["uploads"] = [x["Key"] for x in s3.list_multipart_uploads(Bucket=b).get("Uploads", [])]
        try:
            s3.complete_multipart_upload(Bucket=b, Key=k, UploadId=u, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1}, {"PartNumber": 2, "ETag": p2}]})
        except botocore.exceptions.ClientError as e:
            out["complete_error"] = e.response["Error"]["Code"]
        s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=u)
        try:
            s3.list_parts(Bucket=b, Key=k, UploadId=u)
        except botocore.exceptions.ClientError as e:
            out["after_abort"] = e.response["Error"]["Code"]
    elif op == "mp_create":
        out["upload_id"] = s3.create_multipart_upload(Bucket=b, Key=k, ContentType=args.get("content_type", "application/octet-stream"))["UploadId"]
    elif op == "mp_part":
        with open(args["file"], "rb") as f:
            f.seek(args["offset"])
            data = f.read(args["length"])
        out["etag"] = s3.upload_part(Bucket=b, Key=k, UploadId=args["upload_id"], PartNumber=args["part"], Body=data)["ETag"]
    elif op == "mp_list_uploads":
        out["uploads"] = [[x["Key"], x["UploadId"]] for x in s3.list_multipart_uploads(Bucket=b).get("Uploads", [])]
    elif op == "mp_list_parts":
        out["parts"] = [[p["PartNumber"], p["ETag"], p["Size"]] for p in s3.list_parts(Bucket=b, Key=k, UploadId=args["upload_id"]).get("Parts", [])]
    elif op == "mp_complete":
        r = s3.complete_multipart_upload(Bucket=b, Key=k, UploadId=args["upload_id"], MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in args["parts"]]})
        out["etag"] = r["ETag"]
    elif op == "mp_abort":
        s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=args["upload_id"])
    elif op == "presign":
        out["url"] = s3.generate_presigned_url(args["method"], Params={"Bucket": b, "Key": k}, ExpiresIn=int(args.get("expires", 300)))
    else:
        raise SystemExit(f"unknown op {op}")
except botocore.exceptions.ClientError as e:
    out["error"] = e.response["Error"]["Code"]
    out["status"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
    print(json.dumps(out))
    sys.exit(1)
print(json.dumps(out))
