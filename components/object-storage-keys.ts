/**
 * The object-storage settings as stack config keys: for each ObjectStorageArgs field, the key
 * `pulumi config set` takes, how it is read, and the drivers it belongs to. The one table both
 * components/stack-config.ts (which keys to read) and components/storage-settings.ts (which
 * keys a driver refuses, and the key an error names) go by.
 *
 * Shared settings start with `objectStorage`, a driver's own with its name (`s3`, `gcs`,
 * `azure`), so a key says which driver it is for.
 */
import type { ObjectStorageArgs } from './args';

export type ObjectStorageDriver = 's3' | 'gcs' | 'azure';

export interface ObjectStorageKey {
  /** The stack config key. */
  key: string;
  /** `secret`: read with requireSecret, so the value stays a secret Output. */
  type: 'string' | 'boolean' | 'secret';
  drivers: readonly ObjectStorageDriver[];
}

export const OBJECT_STORAGE_KEYS = {
  bucket: { key: 'objectStorageBucket', type: 'string', drivers: ['s3', 'gcs'] },
  rootDirectory: { key: 'objectStorageRootDirectory', type: 'string', drivers: ['s3', 'gcs', 'azure'] },
  region: { key: 's3Region', type: 'string', drivers: ['s3'] },
  endpoint: { key: 's3Endpoint', type: 'string', drivers: ['s3'] },
  forcePathStyle: { key: 's3ForcePathStyle', type: 'boolean', drivers: ['s3'] },
  secure: { key: 's3Secure', type: 'boolean', drivers: ['s3'] },
  skipVerify: { key: 's3SkipVerify', type: 'boolean', drivers: ['s3'] },
  accessKeyId: { key: 's3AccessKeyId', type: 'secret', drivers: ['s3'] },
  secretAccessKey: { key: 's3SecretAccessKey', type: 'secret', drivers: ['s3'] },
  credentialsJson: { key: 'gcsCredentialsJson', type: 'secret', drivers: ['gcs'] },
  accountName: { key: 'azureAccountName', type: 'string', drivers: ['azure'] },
  container: { key: 'azureContainer', type: 'string', drivers: ['azure'] },
  realm: { key: 'azureRealm', type: 'string', drivers: ['azure'] },
  accountKey: { key: 'azureAccountKey', type: 'secret', drivers: ['azure'] },
} as const satisfies Record<keyof Required<ObjectStorageArgs>, ObjectStorageKey>;

export type ObjectStorageField = keyof typeof OBJECT_STORAGE_KEYS;

export const OBJECT_STORAGE_FIELDS = Object.keys(OBJECT_STORAGE_KEYS) as ObjectStorageField[];
