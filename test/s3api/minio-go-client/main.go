// A command-line S3 client over minio-go (MinIO's Go SDK), for test/s3api: over plain HTTP
// minio-go signs PutObject bodies as aws-chunked with per-chunk signatures
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or ...-PAYLOAD-TRAILER with a trailing checksum), the
// mode no other client on these machines sends.
//
//	minio-go-client ENDPOINT(host:port) ACCESS SECRET put BUCKET KEY FILE [crc32c|crc32|sha256|sha1]
//	minio-go-client ENDPOINT ACCESS SECRET get BUCKET KEY OUTFILE
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func main() {
	if len(os.Args) < 8 {
		fmt.Fprintln(os.Stderr, "usage: minio-go-client ENDPOINT ACCESS SECRET put|get BUCKET KEY FILE [checksum]")
		os.Exit(2)
	}
	endpoint, access, secret, op, bucket, key, file := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6], os.Args[7]
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(access, secret, ""),
		Secure: false,
		Region: "us-east-1",
		// Needed for a trailing checksum (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER).
		TrailingHeaders: len(os.Args) > 8,
	})
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	switch op {
	case "put":
		f, err := os.Open(file)
		if err != nil {
			fail(err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			fail(err)
		}
		opts := minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true}
		if len(os.Args) > 8 {
			switch os.Args[8] {
			case "crc32c":
				opts.Checksum = minio.ChecksumCRC32C
			case "crc32":
				opts.Checksum = minio.ChecksumCRC32
			case "sha256":
				opts.Checksum = minio.ChecksumSHA256
			case "sha1":
				opts.Checksum = minio.ChecksumSHA1
			default:
				fail(fmt.Errorf("unknown checksum %q", os.Args[8]))
			}
			opts.AutoChecksum = opts.Checksum
		}
		info, err := client.PutObject(ctx, bucket, key, f, st.Size(), opts)
		if err != nil {
			fail(err)
		}
		fmt.Println("put", info.Key, info.Size, info.ETag)
	case "get":
		obj, err := client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
		if err != nil {
			fail(err)
		}
		out, err := os.Create(file)
		if err != nil {
			fail(err)
		}
		n, err := io.Copy(out, obj)
		if err != nil {
			fail(err)
		}
		out.Close()
		fmt.Println("get", key, n)
	default:
		fail(fmt.Errorf("unknown operation %q", op))
	}
}

func fail(err error) {
	if resp := minio.ToErrorResponse(err); resp.Code != "" {
		fmt.Fprintf(os.Stderr, "S3 error %s: %s\n", resp.Code, resp.Message)
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(1)
}
