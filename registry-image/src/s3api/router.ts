/**
 * Which operation a request is, from its method, whether it names a bucket and a key, its
 * sub-resource query parameters and x-amz-copy-source (S3 API Reference, each operation's
 * "Request Syntax"). Sub-resources perch does not serve (acl, policy, tagging, lifecycle, ...)
 * are NotImplemented, never mistaken for a plain GET or PUT.
 */
import * as buckets from './buckets';
import { copyObject, deleteObjects } from './copy-delete';
import { S3Error } from './errors';
import { listObjectsV1, listObjectsV2 } from './list';
import * as multipart from './multipart';
import * as objects from './objects';
import type { S3Request } from './request';

export type Operation = (r: S3Request) => Promise<void>;

/** Sub-resources of buckets and objects that perch does not serve. */
const UNSUPPORTED = [
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'encryption', 'intelligent-tiering', 'inventory', 'legal-hold', 'lifecycle',
  'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls', 'policy', 'policyStatus', 'publicAccessBlock', 'replication',
  'requestPayment', 'restore', 'retention', 'select', 'tagging', 'torrent', 'versions', 'website',
];

export function route(method: string, bucket: string, key: string, query: Map<string, string>, copySource: boolean): { name: string; op: Operation } {
  const has = (name: string) => query.has(name);
  const unsupported = UNSUPPORTED.find(has);
  if (unsupported !== undefined && bucket !== '') {
    return { name: `unsupported:${unsupported}`, op: async () => { throw new S3Error('NotImplemented', `the ?${unsupported} sub-resource is not implemented by perch`); } };
  }
  const m = method === 'HEAD' ? 'HEAD' : method;
  if (bucket === '') {
    if (m === 'GET') return { name: 'ListBuckets', op: buckets.listBuckets };
  } else if (key === '') {
    switch (m) {
      case 'PUT':
        return { name: 'CreateBucket', op: buckets.createBucket };
      case 'HEAD':
        return { name: 'HeadBucket', op: buckets.headBucket };
      case 'DELETE':
        return { name: 'DeleteBucket', op: buckets.deleteBucket };
      case 'POST':
        if (has('delete')) return { name: 'DeleteObjects', op: deleteObjects };
        break;
      case 'GET':
        if (has('location')) return { name: 'GetBucketLocation', op: buckets.getBucketLocation };
        if (has('versioning')) return { name: 'GetBucketVersioning', op: buckets.getBucketVersioning };
        if (has('uploads')) return { name: 'ListMultipartUploads', op: multipart.listMultipartUploads };
        if (query.get('list-type') === '2') return { name: 'ListObjectsV2', op: listObjectsV2 };
        return { name: 'ListObjects', op: listObjectsV1 };
    }
  } else {
    switch (m) {
      case 'PUT':
        if (has('uploadId')) return { name: 'UploadPart', op: multipart.uploadPart };
        if (copySource) return { name: 'CopyObject', op: copyObject };
        return { name: 'PutObject', op: objects.putObject };
      case 'GET':
        if (has('uploadId')) return { name: 'ListParts', op: multipart.listParts };
        return { name: 'GetObject', op: objects.getObject };
      case 'HEAD':
        return { name: 'HeadObject', op: objects.getObject };
      case 'DELETE':
        if (has('uploadId')) return { name: 'AbortMultipartUpload', op: multipart.abortMultipartUpload };
        return { name: 'DeleteObject', op: objects.deleteObject };
      case 'POST':
        if (has('uploads')) return { name: 'CreateMultipartUpload', op: multipart.createMultipartUpload };
        if (has('uploadId')) return { name: 'CompleteMultipartUpload', op: multipart.completeMultipartUpload };
        break;
    }
  }
  return {
    name: 'unknown',
    op: async () => {
      throw new S3Error('MethodNotAllowed', `The specified method is not allowed against this resource: ${method} ${bucket === '' ? 'on the service' : key === '' ? 'on a bucket' : 'on an object'}`);
    },
  };
}
