/**
 * Where the registry keeps its images, and how many Pods it runs: the storage part of
 * resolveSettings (components/settings.ts). Every rule is here, each broken one a ConfigError
 * naming the stack config key:
 *
 * - `filesystem` (default): one PersistentVolumeClaim, ReadWriteOnce, so exactly one replica.
 * - `s3`, `gcs`, `azure`: a bucket the replicas share; the claim's keys (storageSize,
 *   storageClass) mean nothing there and are refused, as is any driver setting given for
 *   another driver (components/object-storage-keys.ts says which is whose).
 *
 * Credentials are never echoed: an error names their key only.
 */
import * as pulumi from '@pulumi/pulumi';
import type { ObjectStorageArgs, ZotRegistryArgs } from './args';
import { ConfigError } from './config-error';
import { DEFAULTS, S3_COMPATIBLE_REGION } from './defaults';
import { STORAGE_DRIVERS, type ObjectStorage, type StorageDriver } from './object-storage';
import { OBJECT_STORAGE_FIELDS, OBJECT_STORAGE_KEYS, type ObjectStorageDriver, type ObjectStorageField } from './object-storage-keys';
import {
  azureAccountName,
  azureContainerName,
  bucketName,
  bucketPath,
  bucketRegion,
  byteQuantity,
  dnsName,
  dnsSubdomain,
  endpointUrl,
  googleCredentialsJson,
  oneOf,
  wholeNumber,
} from './validators';

/** The images on one PersistentVolumeClaim. */
export interface FilesystemStorage {
  driver: 'filesystem';
  size: string;
  /** The StorageClass; the cluster's default when unset. */
  class?: string;
}

export type RegistryStorage = FilesystemStorage | ObjectStorage;

export interface StorageSettings {
  storage: RegistryStorage;
  /** Registry Pods; more than one only with object storage. */
  replicas: number;
  /** An existing ServiceAccount the registry Pods run as; the namespace's default when unset. */
  serviceAccountName?: string;
}

/** A ceiling that catches a typo (1000 for 10); a registry needing more is not this component's. */
export const MAX_REPLICAS = 100;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function keyOf(field: ObjectStorageField): string {
  return OBJECT_STORAGE_KEYS[field].key;
}

/** Set: a non-empty value, or a boolean other than its default (Pulumi.yaml fills those in). */
function isSet(given: ObjectStorageArgs, field: ObjectStorageField): boolean {
  const value = given[field];
  if (value === undefined || value === '') return false;
  if (typeof value === 'boolean') return value !== DEFAULTS.objectStorage[field as keyof typeof DEFAULTS.objectStorage];
  return true;
}

/** A setting that belongs to other drivers than the chosen one is a mistake, not a no-op. */
function refuseOtherDriversKeys(driver: StorageDriver, given: ObjectStorageArgs): void {
  for (const field of OBJECT_STORAGE_FIELDS) {
    const { key, drivers } = OBJECT_STORAGE_KEYS[field];
    if (isSet(given, field) && !(drivers as readonly StorageDriver[]).includes(driver)) {
      throw new ConfigError(
        key,
        `is set but storageDriver is ${driver}, and it is a setting of ${drivers.join(' and ')} only; ` +
          `set storageDriver to ${drivers.join(' or ')}, or unset it: pulumi config rm ${key}`,
      );
    }
  }
}

function resolveObjectStorage(driver: ObjectStorageDriver, given: ObjectStorageArgs): ObjectStorage {
  const text = (field: ObjectStorageField) => nonEmpty(given[field] as string | undefined);
  const required = (field: ObjectStorageField, what: string): string => {
    const value = text(field);
    if (value === undefined) {
      throw new ConfigError(keyOf(field), `is required with storageDriver ${driver}: ${what} (pulumi config set ${keyOf(field)} ...)`);
    }
    return value;
  };
  const secret = (field: ObjectStorageField): pulumi.Input<string> | undefined => {
    const value = given[field] as pulumi.Input<string> | undefined;
    return value === undefined || value === '' ? undefined : value;
  };
  const rootText = text('rootDirectory');
  const root = rootText === undefined ? {} : { rootDirectory: bucketPath(keyOf('rootDirectory'), rootText) };

  switch (driver) {
    case 's3': {
      const bucket = bucketName(keyOf('bucket'), required('bucket', 'the bucket that holds the images'));
      const endpointText = text('endpoint');
      // Written out even where the server ignores it, so zot's s3 driver (which insists on one) reads the file too.
      const region = bucketRegion(
        keyOf('region'),
        endpointText !== undefined
          ? (text('region') ?? S3_COMPATIBLE_REGION)
          : required('region', `the bucket's AWS region, e.g. eu-central-1 (with ${keyOf('endpoint')} set it defaults to ${S3_COMPATIBLE_REGION})`),
      );
      const id = secret('accessKeyId');
      const key = secret('secretAccessKey');
      if ((id === undefined) !== (key === undefined)) {
        const missing = id === undefined ? 'accessKeyId' : 'secretAccessKey';
        throw new ConfigError(
          keyOf(missing),
          `is missing: ${keyOf('accessKeyId')} and ${keyOf('secretAccessKey')} go together (pulumi config set --secret ${keyOf(missing)} ...); ` +
            "leave both unset to use the Pod's own identity (serviceAccountName)",
        );
      }
      return {
        driver,
        bucket,
        region,
        ...(endpointText !== undefined ? { endpoint: endpointUrl(keyOf('endpoint'), endpointText) } : {}),
        ...root,
        forcePathStyle: given.forcePathStyle ?? DEFAULTS.objectStorage.forcePathStyle,
        secure: given.secure ?? DEFAULTS.objectStorage.secure,
        skipVerify: given.skipVerify ?? DEFAULTS.objectStorage.skipVerify,
        ...(id !== undefined && key !== undefined ? { accessKey: { id, secret: key } } : {}),
      };
    }
    case 'gcs': {
      const bucket = bucketName(keyOf('bucket'), required('bucket', 'the bucket that holds the images'));
      const json = secret('credentialsJson');
      return {
        driver,
        bucket,
        ...root,
        // A secret is only known once the program runs its Outputs: checked there, never echoed.
        ...(json !== undefined
          ? { credentialsJson: pulumi.secret(json).apply((t) => googleCredentialsJson(keyOf('credentialsJson'), t)) }
          : {}),
      };
    }
    case 'azure': {
      const accountName = azureAccountName(keyOf('accountName'), required('accountName', 'the storage account'));
      const container = azureContainerName(keyOf('container'), required('container', 'the blob container that holds the images'));
      const realm = text('realm');
      const accountKey = secret('accountKey');
      return {
        driver,
        accountName,
        container,
        ...root,
        ...(realm !== undefined ? { realm: dnsName(keyOf('realm'), realm) } : {}),
        ...(accountKey !== undefined ? { accountKey } : {}),
      };
    }
  }
}

export function resolveStorage(args: ZotRegistryArgs): StorageSettings {
  const driver = oneOf('storageDriver', nonEmpty(args.storageDriver) ?? DEFAULTS.storageDriver, STORAGE_DRIVERS);
  refuseOtherDriversKeys(driver, args.objectStorage ?? {});
  const replicas = wholeNumber('replicas', args.replicas ?? DEFAULTS.replicas, 1, MAX_REPLICAS);
  const accountText = nonEmpty(args.serviceAccountName);
  const account = accountText === undefined ? {} : { serviceAccountName: dnsSubdomain('serviceAccountName', accountText) };
  const sizeText = nonEmpty(args.storageSize);
  const classText = nonEmpty(args.storageClass);

  if (driver === 'filesystem') {
    if (replicas > 1) {
      throw new ConfigError(
        'replicas',
        `${replicas} needs object storage: set storageDriver to s3/gcs/azure: a ReadWriteOnce volume holds one replica (or set replicas back to 1)`,
      );
    }
    const storage: FilesystemStorage = { driver, size: byteQuantity('storageSize', sizeText ?? DEFAULTS.storageSize) };
    if (classText !== undefined) storage.class = dnsSubdomain('storageClass', classText);
    return { storage, replicas, ...account };
  }

  // Pulumi.yaml fills storageSize in with its default, so only another value is a mistake.
  if (sizeText !== undefined && sizeText !== DEFAULTS.storageSize) {
    throw new ConfigError('storageSize', `is the claim's size, and storageDriver ${driver} has no claim; unset it: pulumi config rm storageSize`);
  }
  if (classText !== undefined) {
    throw new ConfigError('storageClass', `is the claim's class, and storageDriver ${driver} has no claim; unset it: pulumi config rm storageClass`);
  }
  return { storage: resolveObjectStorage(driver, args.objectStorage ?? {}), replicas, ...account };
}
