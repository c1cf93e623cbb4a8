/**
 * Which Store a configuration means: the filesystem under storage.rootDirectory (one server
 * per root), or an object store named by storage.storageDriver (any number of servers on one
 * bucket). The one place `perch serve` and `perch gc` choose.
 */
import type { PerchConfig } from '../config/types';
import { FsStore, type FsStoreOptions } from './fs-store';
import type { Bucket } from './object/bucket';
import type { ObjectDriverConfig } from './object/driver-config';
import { ObjectStore } from './object/object-store';
import type { Store } from './types';

/**
 * The driver, loaded only when a config names it: each vendor's SDK is megabytes of code that
 * a registry on the filesystem (or on another vendor's store) should not load and keep in memory.
 */
export async function bucketFor(driver: ObjectDriverConfig): Promise<Bucket> {
  switch (driver.name) {
    case 's3':
      return (await import('./object/s3-bucket.js')).s3Bucket(driver);
    case 'gcs':
      return (await import('./object/gcs-bucket.js')).gcsBucket(driver);
    case 'azure':
      return (await import('./object/azure-bucket.js')).azureBucket(driver);
  }
}

/** `options`: FsStore's; the object store takes freshLinkMs from them too. */
export async function openStore(config: PerchConfig, fsOptions: FsStoreOptions = {}): Promise<Store> {
  const { driver } = config.storage;
  return driver ? new ObjectStore(await bucketFor(driver), { freshLinkMs: fsOptions.freshLinkMs }) : new FsStore(config.storage.rootDirectory, fsOptions);
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
