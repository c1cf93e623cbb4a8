/**
 * Object storage: the registry's images in a bucket (s3, gcs, azure) instead of on a
 * PersistentVolumeClaim. What each driver needs once checked (components/storage-settings.ts
 * checks it), the `storage.storageDriver` block of config.json the registry reads for it, and
 * how its credentials reach the Pod.
 *
 * Credentials never go into config.json (a ConfigMap anyone with read access to the namespace
 * sees): they go into one Secret and reach the container as the environment variables the
 * clouds' SDKs read (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AZURE_STORAGE_KEY) or, for a GCS
 * service-account key, as a file config.json names. Without credentials the driver uses the
 * Pod's own identity (IRSA or EKS Pod Identity, GKE Workload Identity, Azure Workload
 * Identity), given by the ServiceAccount the Pods run as (`serviceAccountName`).
 */
import type * as pulumi from '@pulumi/pulumi';
import { GCS_CREDENTIALS_FILE, GCS_CREDENTIALS_PATH } from './container-interface';
import type { ObjectStorageDriver } from './object-storage-keys';

export type StorageDriver = 'filesystem' | ObjectStorageDriver;
export const STORAGE_DRIVERS: readonly StorageDriver[] = ['filesystem', 's3', 'gcs', 'azure'];

export interface S3Storage {
  driver: 's3';
  bucket: string;
  region: string;
  endpoint?: string;
  rootDirectory?: string;
  forcePathStyle: boolean;
  secure: boolean;
  skipVerify: boolean;
  accessKey?: { id: pulumi.Input<string>; secret: pulumi.Input<string> };
}

export interface GcsStorage {
  driver: 'gcs';
  bucket: string;
  rootDirectory?: string;
  /** A service-account key file's JSON, already checked to be one. */
  credentialsJson?: pulumi.Input<string>;
}

export interface AzureStorage {
  driver: 'azure';
  accountName: string;
  container: string;
  rootDirectory?: string;
  realm?: string;
  accountKey?: pulumi.Input<string>;
}

export type ObjectStorage = S3Storage | GcsStorage | AzureStorage;

/** `storage.storageDriver` in config.json: zot's driver parameters, lower-case as zot writes them. */
export type StorageDriverJson =
  | {
      name: 's3';
      bucket: string;
      region: string;
      regionendpoint?: string;
      rootdirectory?: string;
      forcepathstyle: boolean;
      secure: boolean;
      skipverify: boolean;
    }
  | { name: 'gcs'; bucket: string; rootdirectory?: string; credentialsFile?: string }
  | {
      name: 'azure';
      accountname: string;
      container: string;
      rootdirectory?: string;
      realm?: string;
      credentials?: { type: 'default_credentials' };
    };

export function storageDriverJson(storage: ObjectStorage): StorageDriverJson {
  const root = storage.rootDirectory !== undefined ? { rootdirectory: storage.rootDirectory } : {};
  switch (storage.driver) {
    case 's3':
      return {
        name: 's3',
        bucket: storage.bucket,
        region: storage.region,
        ...(storage.endpoint !== undefined ? { regionendpoint: storage.endpoint } : {}),
        ...root,
        forcepathstyle: storage.forcePathStyle,
        secure: storage.secure,
        skipverify: storage.skipVerify,
      };
    case 'gcs':
      return {
        name: 'gcs',
        bucket: storage.bucket,
        ...root,
        // Without a file the GCS client uses Application Default Credentials.
        ...(storage.credentialsJson !== undefined ? { credentialsFile: GCS_CREDENTIALS_PATH } : {}),
      };
    case 'azure':
      return {
        name: 'azure',
        accountname: storage.accountName,
        container: storage.container,
        ...root,
        ...(storage.realm !== undefined ? { realm: storage.realm } : {}),
        // With an account key the registry reads it from AZURE_STORAGE_KEY; without one,
        // DefaultAzureCredential (workload identity, managed identity).
        ...(storage.accountKey === undefined ? { credentials: { type: 'default_credentials' as const } } : {}),
      };
  }
}

/** One credential: a key of the object-storage Secret, and how it reaches the container. */
export interface StorageCredential {
  /** The key in the Secret. */
  key: string;
  value: pulumi.Input<string>;
  /** Given to the container as this environment variable ... */
  env?: string;
  /** ... or as this file in STORAGE_CREDENTIALS_DIR. */
  file?: string;
}

/** How the Pod finds a credential; the same as StorageCredential without the value. */
export type StorageCredentialRef = Omit<StorageCredential, 'value'>;

/** The credentials the stack gave for the bucket; empty when the Pod's identity is used. */
export function storageCredentials(storage: ObjectStorage): StorageCredential[] {
  switch (storage.driver) {
    case 's3':
      if (storage.accessKey === undefined) return [];
      return [
        { key: 'aws-access-key-id', value: storage.accessKey.id, env: 'AWS_ACCESS_KEY_ID' },
        { key: 'aws-secret-access-key', value: storage.accessKey.secret, env: 'AWS_SECRET_ACCESS_KEY' },
      ];
    case 'gcs':
      if (storage.credentialsJson === undefined) return [];
      return [{ key: GCS_CREDENTIALS_FILE, value: storage.credentialsJson, file: GCS_CREDENTIALS_FILE }];
    case 'azure':
      if (storage.accountKey === undefined) return [];
      return [{ key: 'azure-storage-key', value: storage.accountKey, env: 'AZURE_STORAGE_KEY' }];
  }
}

/**
 * Labels the Pod needs for its cloud identity. Azure Workload Identity's webhook only injects
 * the token and client settings into Pods labelled `azure.workload.identity/use: "true"`; IRSA,
 * EKS Pod Identity and GKE Workload Identity go by the ServiceAccount alone.
 */
export function workloadIdentityLabels(storage: ObjectStorage | { driver: 'filesystem' }): Record<string, string> {
  return storage.driver === 'azure' && storage.accountKey === undefined ? { 'azure.workload.identity/use': 'true' } : {};
}

/** Where the images live, as a URL-like name for the storage guard's record and messages. */
export function objectStorageLocation(storage: ObjectStorage): string {
  const root = (storage.rootDirectory ?? '').replace(/^\/+/, '');
  const path = (base: string) => (root === '' ? base : `${base}/${root}`);
  switch (storage.driver) {
    case 's3':
      return path(`s3://${storage.bucket}`);
    case 'gcs':
      return path(`gs://${storage.bucket}`);
    case 'azure':
      return path(`azure://${storage.accountName}/${storage.container}`);
  }
}
