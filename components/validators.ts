/**
 * Small pure checks for configuration values. Each throws ConfigError naming the key, the
 * problem and what is allowed; each returns the value it accepted (narrowed where it can).
 */
import { ConfigError } from './config-error';

/** RFC 1123 label: namespaces, Service names (Kubernetes "DNS label" names). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: Secret, ConfigMap, StorageClass and IngressClass names. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function dnsLabel(key: string, value: string): string {
  if (value.length > 63 || !DNS_LABEL.test(value)) {
    throw new ConfigError(
      key,
      `"${value}" is not a valid Kubernetes name; use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "zot-registry")`,
    );
  }
  return value;
}

export function dnsSubdomain(key: string, value: string): string {
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new ConfigError(
      key,
      `"${value}" is not a valid Kubernetes object name; use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`,
    );
  }
  return value;
}

export function oneOf<T extends string>(key: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(key, `"${value}" is not allowed; use one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function portNumber(key: string, value: number, min = 1, max = 65535): number {
  return wholeNumber(key, value, min, max);
}

export function wholeNumber(key: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(key, `${value} is out of range; use a whole number from ${min} to ${max}`);
  }
  return value;
}

/*
 * Kubernetes resource quantities (apimachinery resource.Quantity): a decimal number with an
 * optional binary (Ki, Mi, Gi, ...) or decimal (m, k, M, G, ...) suffix. Storage and memory take
 * byte amounts; CPU also takes millicores ("100m").
 */
const BYTE_QUANTITY = /^(\d+(\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const CPU_QUANTITY = /^(\d+(\.\d+)?)(m)?$/;

export function byteQuantity(key: string, value: string): string {
  const match = BYTE_QUANTITY.exec(value);
  if (!match || Number(match[1]) <= 0) {
    throw new ConfigError(
      key,
      `"${value}" is not a Kubernetes size; use a positive number with a unit such as 10Gi, 512Mi or 1Ti`,
    );
  }
  return value;
}

export function cpuQuantity(key: string, value: string): string {
  const match = CPU_QUANTITY.exec(value);
  if (!match || Number(match[1]) <= 0) {
    throw new ConfigError(key, `"${value}" is not a CPU amount; use millicores such as 100m or cores such as 1 or 0.5`);
  }
  return value;
}

/*
 * Hosts users reach the registry at: a DNS name, an IPv4 address or a bracketed IPv6 address,
 * optionally with :port. No scheme and no path: the program builds the URL.
 */
const HOST = /^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(:(\d{1,5}))?$/;

export function hostWithOptionalPort(key: string, value: string): { host: string; port?: number } {
  const match = HOST.exec(value);
  if (!match) {
    throw new ConfigError(
      key,
      `"${value}" is not a host; give a DNS name or IP address, optionally with :port, without http:// or a path (e.g. 10.0.0.106 or registry.example.com:8443)`,
    );
  }
  const host = match[1]!;
  if (match[6] === undefined) return { host };
  return { host, port: portNumber(key, Number(match[6])) };
}

/** A DNS name (Ingress and HTTPRoute hosts take no port and no IP). */
export function dnsName(key: string, value: string): string {
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new ConfigError(key, `"${value}" is not a DNS name; use lower-case letters, digits, '-' and '.' (e.g. registry.example.com)`);
  }
  return value;
}

/**
 * htpasswd user names: the file is `user:hash`, so a colon would split the line wrongly;
 * whitespace and control characters break the file and the Basic header.
 */
export function htpasswdUser(key: string, value: string): string {
  if (value === '') throw new ConfigError(key, 'is empty; give a user name such as roost-test');
  if (value.includes(':')) {
    throw new ConfigError(key, `"${value}" contains ':', which htpasswd and HTTP Basic auth use as the separator; choose a name without ':'`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(value)) {
    throw new ConfigError(key, `"${value}" contains whitespace or control characters; use letters, digits, '-', '_' or '.'`);
  }
  return value;
}

const SUFFIX_FACTOR: Record<string, number> = {
  '': 1, m: 1e-3,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The numeric value of a quantity already accepted by byteQuantity or cpuQuantity. */
export function quantityValue(value: string): number {
  const match = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(value);
  return Number(match![1]) * SUFFIX_FACTOR[match![2]!]!;
}

/** Kubernetes refuses a request above its limit; say so before `pulumi up` tries. */
export function requestWithinLimit(key: string, request: string, limit: string): void {
  if (quantityValue(request) > quantityValue(limit)) {
    throw new ConfigError(key, `the request ${request} is above the limit ${limit}; a request may be at most its limit`);
  }
}

/*
 * Object storage. Bucket names follow S3's and GCS's rules loosely (upper case is let through for
 * old S3 buckets); what matters here is catching a URL or a path where a bare name belongs.
 */
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,220}[A-Za-z0-9]$/;
const REGION = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A key prefix inside the bucket: path segments without `.`/`..`, an optional leading `/`. */
const BUCKET_PATH = /^\/?[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*\/?$/;
/** Azure: storage accounts are 3-24 lower-case letters and digits. */
const AZURE_ACCOUNT = /^[a-z0-9]{3,24}$/;
/** Azure: containers are 3-63 lower-case letters, digits and single hyphens, not at either end. */
const AZURE_CONTAINER = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export function bucketName(key: string, value: string): string {
  if (!BUCKET.test(value)) {
    throw new ConfigError(
      key,
      `"${value}" is not a bucket name; give the bare name, 3-222 letters, digits, '.', '-' and '_' (e.g. registry-images), ` +
        'without s3:// or gs:// and without a path (a prefix inside the bucket goes in objectStorageRootDirectory)',
    );
  }
  return value;
}

export function bucketRegion(key: string, value: string): string {
  if (!REGION.test(value)) {
    throw new ConfigError(key, `"${value}" is not a region name; use e.g. eu-central-1 (AWS), or us-east-1 for most S3-compatible servers`);
  }
  return value;
}

export function bucketPath(key: string, value: string): string {
  if (!BUCKET_PATH.test(value)) {
    throw new ConfigError(key, `"${value}" is not a path inside the bucket; use segments of letters, digits, '.', '-' and '_' separated by '/' (e.g. /registry or teams/registry)`);
  }
  return value;
}

/**
 * An S3-compatible endpoint: http(s)://host[:port], as the SDK takes it. A URL with a user and
 * password in it is refused without being echoed: it would put a credential into config.json.
 */
export function endpointUrl(key: string, value: string): string {
  const example = 'e.g. http://minio.storage.svc.cluster.local:9000 or https://s3.eu-central-1.amazonaws.com';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(key, `"${value}" is not a URL; give the endpoint with its scheme (${example})`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(
      key,
      'holds a user name or password; give the endpoint without them, and the keys with: pulumi config set --secret s3AccessKeyId ... (and s3SecretAccessKey)',
    );
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(key, `"${value}" is not an endpoint URL; use http:// or https://, a host and an optional port, without a query (${example})`);
  }
  return value;
}

export function azureAccountName(key: string, value: string): string {
  if (!AZURE_ACCOUNT.test(value)) {
    throw new ConfigError(key, `"${value}" is not an Azure storage account name; use 3-24 lower-case letters and digits (the part before .blob.core.windows.net)`);
  }
  return value;
}

export function azureContainerName(key: string, value: string): string {
  if (!AZURE_CONTAINER.test(value)) {
    throw new ConfigError(key, `"${value}" is not an Azure container name; use 3-63 lower-case letters, digits and single '-', starting and ending with a letter or digit`);
  }
  return value;
}

/**
 * A Google credentials file (a service-account key, or an external-account configuration for
 * workload identity federation): a JSON object with a string `type`. The text is a secret, so no
 * message quotes any of it.
 */
export function googleCredentialsJson(key: string, text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(key, `is not JSON; give the key file's content: pulumi config set --secret ${key} < key.json`);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { type?: unknown }).type !== 'string') {
    throw new ConfigError(key, 'is JSON but not a Google credentials file (it has no "type" such as "service_account"); give the key file the console or gcloud made');
  }
  return text;
}
