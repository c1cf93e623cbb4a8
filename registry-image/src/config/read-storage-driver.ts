/**
 * `storage.storageDriver`: which object store holds the content instead of the filesystem, in
 * zot's form (the block zot hands to distribution's s3, gcs and azure drivers, so their key
 * spellings). Secrets may stay out of the file: each driver also reads its vendor's usual
 * environment variables and credential files (storage/object/*-bucket.ts).
 */
import type { ObjectDriverConfig } from '../storage/object/driver-config';
import type { Section } from './section';

const DRIVERS = ['s3', 'gcs', 'azure'] as const;

/** The driver's root directory as a key prefix: no leading or trailing slash. */
function prefix(s: Section): string {
  return (s.string('rootdirectory') ?? '').replace(/^\/+|\/+$/g, '');
}

function required(s: Section, key: string, example: string): string {
  const v = s.string(key)?.trim();
  if (!v) s.problem(key, `is required for this driver; e.g. "${key}": "${example}"`);
  return v ?? '';
}

/** Undefined for the filesystem (no block, or name "filesystem"/"local"). */
export function readStorageDriver(s: Section): ObjectDriverConfig | undefined {
  if (!s.exists) return undefined;
  const name = s.string('name');
  if (name === undefined) {
    s.problem(undefined, 'has no "name": say which object store, one of "s3", "gcs", "azure" (or remove storageDriver to store on the filesystem)');
    return undefined;
  }
  if (['filesystem', 'local'].includes(name.toLowerCase())) return undefined;
  const driver = DRIVERS.find((d) => d === name.toLowerCase());
  if (!driver) {
    s.problem('name', `${JSON.stringify(name)} is not allowed; use one of "s3", "gcs", "azure" (or remove storageDriver to store on the filesystem)`);
    return undefined;
  }
  const rootDirectory = prefix(s);
  switch (driver) {
    case 's3': {
      const regionEndpoint = s.string('regionendpoint')?.trim() || undefined;
      return {
        name: 's3',
        bucket: required(s, 'bucket', 'zot-storage'),
        // An S3-compatible store ignores the region, but the signature needs one.
        region: s.string('region')?.trim() || (regionEndpoint ? 'us-east-1' : required(s, 'region', 'us-east-2')),
        regionEndpoint,
        rootDirectory,
        forcePathStyle: s.bool('forcepathstyle', false),
        secure: s.bool('secure', true),
        skipVerify: s.bool('skipverify', false),
        accessKey: s.string('accesskey') || undefined,
        secretKey: s.string('secretkey') || undefined,
        sessionToken: s.string('sessiontoken') || undefined,
      };
    }
    case 'gcs':
      return {
        name: 'gcs',
        bucket: required(s, 'bucket', 'zot-storage'),
        rootDirectory,
        credentialsFile: s.string('credentialsfile') ?? s.string('keyfile'),
        endpoint: s.string('endpoint')?.trim() || undefined,
      };
    case 'azure': {
      const accountKey = s.string('accountkey') || undefined;
      const type = s.section('credentials').oneOf('type', ['shared_key', 'default_credentials'], accountKey || process.env.AZURE_STORAGE_KEY ? 'shared_key' : 'default_credentials');
      return {
        name: 'azure',
        accountName: required(s, 'accountname', 'myazurestorageaccount'),
        container: required(s, 'container', 'zot-storage'),
        rootDirectory,
        accountKey,
        credentialsType: type,
        serviceUrl: s.string('serviceurl')?.trim() || undefined,
        realm: s.string('realm')?.trim() || 'core.windows.net',
      };
    }
  }
}
