/** What every S3 operation works with: the registry's config, store, auth and log, and the S3 settings. */
import type { Auth } from '../auth/types';
import type { PerchConfig, S3ApiConfig } from '../config/types';
import type { Logger } from '../log';
import type { Store } from '../storage/types';

export interface S3Parts {
  config: PerchConfig;
  s3: S3ApiConfig;
  store: Store;
  auth: Auth;
  log: Logger;
}
