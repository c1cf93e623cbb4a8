/**
 * The three object stores the suites run perch on, each a real server on loopback, started on
 * first use and shared by one test file: SeaweedFS (S3), fake-gcs-server (GCS) and Azurite
 * (Azure Blob). `driver(name)` gives a storage.storageDriver config on a fresh bucket or
 * container, so each suite (or test) starts empty.
 */
import type { ObjectDriverConfig } from '../../registry-image/src/storage/object/driver-config';
import { startAzurite, startFakeGcs, type Azurite, type FakeGcs } from './object-servers';
import { startSeaweed, type Seaweed } from './seaweed';

export const OBJECT_DRIVERS = ['s3', 'gcs', 'azure'] as const;
export type ObjectDriverName = (typeof OBJECT_DRIVERS)[number];

export interface ObjectBackends {
  /** A driver config on a new, empty bucket (or container) of that store. */
  driver(name: ObjectDriverName, rootDirectory?: string): Promise<ObjectDriverConfig>;
  /** The same, as zot's storageDriver block for a config.json. */
  configBlock(name: ObjectDriverName, rootDirectory?: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export function objectBackends(): ObjectBackends {
  let seaweed: Promise<Seaweed> | undefined;
  let gcs: Promise<FakeGcs> | undefined;
  let azurite: Promise<Azurite> | undefined;

  const driver = async (name: ObjectDriverName, rootDirectory = 'perch'): Promise<ObjectDriverConfig> => {
    switch (name) {
      case 's3': {
        const s = await (seaweed ??= startSeaweed());
        return s.driver(await s.createBucket(), rootDirectory);
      }
      case 'gcs': {
        const g = await (gcs ??= startFakeGcs());
        return { name: 'gcs', bucket: await g.createBucket(), rootDirectory, endpoint: g.endpoint };
      }
      case 'azure': {
        const a = await (azurite ??= startAzurite());
        return { name: 'azure', accountName: a.accountName, accountKey: a.accountKey, container: await a.createContainer(), rootDirectory, credentialsType: 'shared_key', serviceUrl: a.serviceUrl, realm: 'core.windows.net' };
      }
    }
  };

  return {
    driver,
    async configBlock(name, rootDirectory) {
      const d = await driver(name, rootDirectory);
      switch (d.name) {
        case 's3':
          return { name: 's3', bucket: d.bucket, region: d.region, regionendpoint: d.regionEndpoint, rootdirectory: d.rootDirectory, forcepathstyle: true, secure: false, accesskey: d.accessKey, secretkey: d.secretKey };
        case 'gcs':
          return { name: 'gcs', bucket: d.bucket, rootdirectory: d.rootDirectory, endpoint: d.endpoint };
        case 'azure':
          return { name: 'azure', accountname: d.accountName, accountkey: d.accountKey, container: d.container, rootdirectory: d.rootDirectory, serviceurl: d.serviceUrl };
      }
    },
    async stop() {
      const all = [seaweed, gcs, azurite].filter((p) => p !== undefined);
      await Promise.all(all.map(async (p) => (await p.catch(() => null))?.stop()));
    },
  };
}
