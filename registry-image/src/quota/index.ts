/** Storage usage and quotas: running totals per repository and overall, and the push-path checks. */
export { storageUsage, usageSnapshot, StorageUsage, type UsageSnapshot, type RepositoryUsage } from './usage';
export { admitUpload, reserve, formatBytes, type Reservation } from './admission';
