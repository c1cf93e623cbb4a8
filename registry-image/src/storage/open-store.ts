/**
 * Which Store a configuration means: the filesystem under storage.rootDirectory (one server
 * per root), or an object store named by storage.storageDriver (any number of servers on one
 * bucket). The one place `perch serve` and `perch gc` choose.
 */
import type { PerchConfig } from '../config/types';
import { FsStore, type FsStoreOptions } from './fs-store';
import { azureBucket } from './object/azure-bucket';
import type { Bucket } from './object/bucket';
import type { ObjectDriverConfig } from './object/driver-config';
import { gcsBucket } from './object/gcs-bucket';
import { ObjectStore } from './object/object-store';
import { s3Bucket } from './object/s3-bucket';
import type { Store } from './types';

export function bucketFor(driver: ObjectDriverConfig): Bucket {
  switch (driver.name) {
    case 's3':
      return s3Bucket(driver);
    case 'gcs':
      return gcsBucket(driver);
    case 'azure':
      return azureBucket(driver);
  }
}

/** `options`: FsStore's; the object store takes freshLinkMs from them too. */
export function openStore(config: PerchConfig, fsOptions: FsStoreOptions = {}): Store {
  const { driver } = config.storage;
  return driver ? new ObjectStore(bucketFor(driver), { freshLinkMs: fsOptions.freshLinkMs }) : new FsStore(config.storage.rootDirectory, fsOptions);
}

/** Where the content lives, for logs and messages. */
export function describeStorage(config: PerchConfig): string {
  const { driver, rootDirectory } = config.storage;
  if (!driver) return rootDirectory;
  switch (driver.name) {
    case 's3':
      return `s3://${driver.bucket}/${driver.rootDirectory}`;
    case 'gcs':
      return `gs://${driver.bucket}/${driver.rootDirectory}`;
    case 'azure':
      return `azure://${driver.accountName}/${driver.container}/${driver.rootDirectory}`;
  }
}
