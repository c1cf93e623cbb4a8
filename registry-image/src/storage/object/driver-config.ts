/**
 * What each object-storage driver is given: zot's `storage.storageDriver` block, read and
 * checked by config/read-storage-driver.ts (key spellings there: zot's and distribution's).
 * Secrets (keys) may come from the block or, as the vendors' tools do, from the environment
 * and credential files; the drivers never log them.
 */
export interface S3DriverConfig {
  name: 's3';
  bucket: string;
  region: string;
  /** A non-AWS endpoint (SeaweedFS, MinIO, ...): zot/distribution `regionendpoint`. */
  regionEndpoint?: string;
  /** Key prefix inside the bucket, without leading or trailing slash ("" for the top). */
  rootDirectory: string;
  forcePathStyle: boolean;
  /** https (true, default) or http to regionendpoint. */
  secure: boolean;
  /** Accept any TLS certificate from the endpoint. */
  skipVerify: boolean;
  /** Static credentials; absent: the AWS SDK's default chain (env, files, web identity). */
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
}

export interface GcsDriverConfig {
  name: 'gcs';
  bucket: string;
  rootDirectory: string;
  /** A service-account JSON file; absent: Application Default Credentials. */
  credentialsFile?: string;
  /**
   * An emulator or private endpoint (perch's own key; the SDK's STORAGE_EMULATOR_HOST
   * environment variable does the same).
   */
  endpoint?: string;
}

export interface AzureDriverConfig {
  name: 'azure';
  accountName: string;
  container: string;
  rootDirectory: string;
  /** Shared key; absent: AZURE_STORAGE_KEY, then the `credentials` type. */
  accountKey?: string;
  /** `shared_key` (default when a key is known) or `default_credentials` (workload identity). */
  credentialsType: 'shared_key' | 'default_credentials';
  /** The blob service URL; default https://ACCOUNT.blob.REALM. Azurite: http://127.0.0.1:PORT/devstoreaccount1 */
  serviceUrl?: string;
  /** default core.windows.net */
  realm: string;
}

export type ObjectDriverConfig = S3DriverConfig | GcsDriverConfig | AzureDriverConfig;
