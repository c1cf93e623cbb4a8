/**
 * The registry `--registry` names, and whether plain HTTP may be used for it.
 *
 * Accepted: `http://host[:port]`, `https://host[:port]`, or `host[:port]` alone. Without a
 * scheme, loopback hosts (and any host with --insecure) get plain HTTP, others HTTPS. Plain
 * HTTP to a host that is not loopback needs --insecure, as docker, helm (`--plain-http`) and
 * crane (`--insecure`) ask: credentials would cross the network unencrypted. With https,
 * --insecure also accepts a certificate that does not verify (self-signed, wrong name).
 * Extra CA certificates are read from NODE_EXTRA_CA_CERTS, as everywhere in Node.js.
 */
import { isIP } from 'node:net';

export interface RegistryEndpoint {
  scheme: 'http' | 'https';
  /** host[:port] as in the URL (IPv6 in brackets): what oci:// references and tokens name. */
  host: string;
  /** Without brackets, for connecting. */
  hostname: string;
  port: number;
  /** scheme://host, no trailing slash. */
  origin: string;
  /** Plain HTTP allowed to hosts that are not loopback, and TLS certificates not verified. */
  insecure: boolean;
}

/** localhost, 127.0.0.0/8 and ::1: hosts whose traffic never leaves the machine. */
export function isLoopback(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
  return false;
}

/** How the caller's users say things, for messages: perch seed's flags by default. */
export interface EndpointWording {
  /** How to allow plain HTTP to a host that is not loopback. */
  insecure: string;
  /** How to pass credentials instead of in the URL. */
  credentials: string;
  /** Where repositories are named instead of in the address. */
  path: string;
}

const SEED_WORDING: EndpointWording = {
  insecure: 'add --insecure',
  credentials: 'pass --username with --password-stdin, or set the environment variables (see perch seed --help)',
  path: 'the charts go under roost-test/',
};

export function parseRegistryEndpoint(text: string, insecure: boolean, flag = '--registry', wording: EndpointWording = SEED_WORDING): RegistryEndpoint {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error(`${flag} is empty: give the registry's address, e.g. ${flag} http://localhost:5000`);
  const hasScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(trimmed);
  let url: URL;
  try {
    url = new URL(hasScheme ? trimmed : `placeholder://${trimmed}`);
  } catch {
    throw new Error(`${flag} ${JSON.stringify(text)} is not an address: use http://host:port or https://host`);
  }
  if (hasScheme && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${flag} ${text}: the scheme must be http:// or https:// (an oci:// reference names a repository, not a registry)`);
  }
  if (url.username || url.password) {
    throw new Error(`${flag} must not hold credentials: ${wording.credentials}`);
  }
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash) {
    throw new Error(`${flag} ${text}: give the registry's address only (e.g. http://localhost:5000), without a path; ${wording.path}`);
  }
  if (url.hostname === '') throw new Error(`${flag} ${text} has no host`);
  const loopback = isLoopback(url.hostname);
  const scheme: 'http' | 'https' = hasScheme ? (url.protocol === 'http:' ? 'http' : 'https') : loopback || insecure ? 'http' : 'https';
  if (scheme === 'http' && !loopback && !insecure) {
    throw new Error(
      `${flag} ${text} is plain HTTP to ${url.hostname}, which is not a loopback address: ${wording.insecure} if you mean it (credentials and charts travel unencrypted), or use https://`,
    );
  }
  const port = url.port ? Number(url.port) : scheme === 'http' ? 80 : 443;
  const host = url.port ? `${url.hostname}:${url.port}` : url.hostname;
  return {
    scheme,
    host,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    origin: `${scheme}://${host}`,
    insecure,
  };
}
