/**
 * The S3-compatible API (docs/s3api.md): `startS3Api` is what `perch serve` calls. With
 * perch.s3api.enable it loads the access keys' secrets and listens on perch.s3api.address:port
 * (over TLS when the registry serves TLS); otherwise it does nothing.
 *
 *   server.ts        the listener: target, signature, identity, operation, errors
 *   router.ts        which operation a request is
 *   buckets.ts       ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation
 *   objects.ts       PutObject, GetObject, HeadObject, DeleteObject
 *   list.ts          ListObjectsV2, ListObjects
 *   multipart.ts     the multipart upload operations
 *   copy-delete.ts   CopyObject, DeleteObjects
 *   object-key.ts, object-manifest.ts, bucket-record.ts, upload-record.ts
 *                    how S3 names (objects, buckets, uploads in progress) map onto OCI content
 *   store-writes.ts  writes through the registry's own paths (quota, finishUpload, commitManifest)
 *   sigv4/           the signature check
 */
import type { Auth } from '../auth/types';
import type { PerchConfig } from '../config/types';
import type { TlsServing } from '../http/hooks';
import type { Logger } from '../log';
import type { Store } from '../storage/types';
import { loadCredentials } from './credentials';
import { listen, type S3Server } from './server';

export { S3CredentialsError } from './credentials';

export interface S3ApiDeps {
  store: Store;
  auth: Auth;
  log: Logger;
  tls?: TlsServing;
}

/** Starts the S3 listener when perch.s3api.enable is set; undefined when it is not. */
export async function startS3Api(config: PerchConfig, deps: S3ApiDeps): Promise<S3Server | undefined> {
  const s3 = config.perch.s3api;
  if (!s3?.enable) return undefined;
  const credentials = loadCredentials(s3);
  return listen({ config, s3, store: deps.store, auth: deps.auth, log: deps.log }, credentials, deps.tls);
}
