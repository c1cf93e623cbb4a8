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
