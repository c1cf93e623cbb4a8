/**
 * One connection to the LDAP server as zot's config asks for it (zot: pkg/api/ldap.go Connect):
 *
 *   insecure: true                 ldap://host:port, plain text all the way
 *   startTLS: true                 ldap://host:port, then the StartTLS extended operation
 *   neither (the default)          ldaps://host:port, TLS from the first byte
 *
 * With TLS the server's certificate is checked against caCert (only that CA) or, without it,
 * the system's CAs, and its name against `address` (an IP address must be in the certificate's
 * IP SANs); skipVerify turns both checks off, as zot's InsecureSkipVerify does.
 *
 * Each login opens its own connection and closes it after (see ldap-authenticator.ts for why).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import type { LdapConfig } from '../../config/auth-types';

export const CONNECT_TIMEOUT_MS = 5_000;
export const OPERATION_TIMEOUT_MS = 10_000;

export interface LdapEndpoint {
  /** ldap://host:port or ldaps://host:port, for messages (never carries credentials). */
  url: string;
  /** How the connection is protected, for messages: "LDAPS", "StartTLS" or "no TLS". */
  protection: string;
  open(): Promise<Client>;
}

export function ldapEndpoint(config: LdapConfig, timeouts: { connectMs?: number; operationMs?: number } = {}): LdapEndpoint {
  const host = isIP(config.address) === 6 ? `[${config.address}]` : config.address;
  const secure = !config.insecure && !config.startTLS;
  const url = `${secure ? 'ldaps' : 'ldap'}://${host}:${config.port}`;
  const tlsOptions = config.insecure ? undefined : tlsOptionsFor(config);
  const protection = config.insecure ? 'no TLS' : config.startTLS ? 'StartTLS' : 'LDAPS';
  return {
    url,
    protection,
    async open() {
      const client = new Client({
        url,
        connectTimeout: timeouts.connectMs ?? CONNECT_TIMEOUT_MS,
        timeout: timeouts.operationMs ?? OPERATION_TIMEOUT_MS,
        ...(secure ? { tlsOptions } : {}),
      });
      if (config.startTLS && !config.insecure) {
        try {
          await client.startTLS(tlsOptions);
        } catch (err) {
          await client.unbind().catch(() => undefined);
          throw err;
        }
      }
      return client;
    },
  };
}

function tlsOptionsFor(config: LdapConfig): ConnectionOptions {
  const options: ConnectionOptions = { rejectUnauthorized: !config.skipVerify, minVersion: 'TLSv1.2' };
  // SNI only for names; Node checks an IP address against the certificate's IP SANs itself.
  if (isIP(config.address) === 0) options.servername = config.address;
  if (config.caCert) options.ca = readCaCert(config.caCert);
  return options;
}

function readCaCert(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`http.auth.ldap.caCert: ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); mount the LDAP server's CA certificate there, or remove caCert to use the system's CAs`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`http.auth.ldap.caCert: ${path} holds no PEM certificate; give the CA certificate that signed the LDAP server's certificate`);
  }
  return pem;
}
