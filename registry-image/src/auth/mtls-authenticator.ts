/**
 * zot's mutual-TLS login (http.auth.mtls): the verified client certificate of the TLS
 * connection names the user. The TLS side is tls/index.ts: with http.tls.cacert the server asks
 * for a certificate, a client without one connects as anonymous (zot: VerifyClientCertIfGiven),
 * and one whose certificate does not verify against that CA is dropped right after the
 * handshake, before any HTTP, as Go's handshake refuses it in zot.
 *
 * The user name comes from the first of `identityAttributes` (default CommonName) the
 * certificate has, as zot's extractMTLSIdentity takes it:
 *   commonname  the subject's CN
 *   subject     the whole subject DN as Go prints it ("CN=alice,OU=ci,O=Roost"; tls/certificate-names.ts)
 *   email       the emailSanIndex-th rfc822Name in subjectAltName
 *   uri         the uriSanIndex-th URI in subjectAltName; with uriSanPattern, its first capture
 *               group ("spiffe://example.org/workload/(.*)" -> "testuser"); no match: next attribute
 *   dnsname     the dnsSanIndex-th dNSName in subjectAltName
 * An attribute the certificate lacks is skipped; the first one it has decides, even when that
 * gives an empty name (zot then refuses the login rather than trying the next one).
 *
 * Decisions:
 * - Only a certificate the TLS layer verified (socket.authorized) names anyone. One that is
 *   presented but unverified (possible only if the server were set up without the drop) is a
 *   401, never an identity and never silently anonymous.
 * - A verified certificate that yields no name is a 401 naming the attributes tried (zot's
 *   behaviour too: it does not fall back to anonymous), so the operator sees a
 *   misconfiguration instead of a user who mysteriously cannot push.
 * - Groups come only from http.accessControl (as in zot), none from the certificate.
 * - The result is remembered per connection (a keep-alive push sends dozens of requests on one),
 *   in a WeakMap, so closed connections take it with them: reading the peer certificate costs
 *   about 120 µs a request, the remembered answer about 1 µs (median, measured in process). What the client proved at the
 *   handshake stays its identity for the connection; a TLS 1.2 renegotiation could only
 *   present another certificate the same client holds the key of.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { MtlsConfig } from '../config/auth-types';
import { certificateNames, type CertificateNames } from '../tls/certificate-names';
import type { Principal, RequestAuthenticator } from './authenticator';
import { TokenInvalid } from './tokens';

export type IdentityResult = { identity: string; attribute: string } | { problem: string };

function pick(list: string[], index: number, kind: string): string | Error {
  if (list.length === 0) return new Error(`no ${kind} in subjectAltName`);
  if (index < 0 || index >= list.length) return new Error(`${kind} index ${index} is out of range (the certificate has ${list.length})`);
  return list[index];
}

function attributeValue(names: CertificateNames, attribute: MtlsConfig['identityAttributes'][number], config: MtlsConfig): string | Error {
  switch (attribute) {
    case 'commonname':
      return names.commonName === '' ? new Error('no CommonName in the subject') : names.commonName;
    case 'subject':
      return names.subject;
    case 'email':
      return pick(names.emails, config.emailSanIndex, 'email address');
    case 'dnsname':
      return pick(names.dnsNames, config.dnsSanIndex, 'DNS name');
    case 'uri': {
      const uri = pick(names.uris, config.uriSanIndex, 'URI');
      if (uri instanceof Error || !config.uriSanPattern) return uri;
      const match = new RegExp(config.uriSanPattern).exec(uri);
      if (!match || match.length < 2) return new Error(`URI ${uri} does not match uriSanPattern ${config.uriSanPattern}`);
      return match[1] ?? '';
    }
  }
}

/** The user a certificate (DER) names under `config`, or why it names none. */
export function certificateIdentity(der: Uint8Array, config: MtlsConfig): IdentityResult {
  let names: CertificateNames;
  try {
    names = certificateNames(der);
  } catch (err) {
    return { problem: `the client certificate cannot be read (${(err as Error).message})` };
  }
  const attributes = config.identityAttributes.length > 0 ? config.identityAttributes : (['commonname'] as const);
  const misses: string[] = [];
  for (const attribute of attributes) {
    const value = attributeValue(names, attribute, config);
    if (value instanceof Error) {
      misses.push(`${attribute}: ${value.message}`);
      continue;
    }
    if (value === '') return { problem: `identity attribute ${attribute} gives an empty name` };
    return { identity: value, attribute };
  }
  return { problem: `the client certificate names no user (${misses.join('; ')}); check http.auth.mtls.identityAttributes` };
}

export class MtlsAuthenticator implements RequestAuthenticator {
  readonly method = 'mtls';
  /** Per connection: the certificate was proven once, at its handshake. */
  private readonly seen = new WeakMap<TLSSocket, IdentityResult | null>();

  constructor(private readonly config: MtlsConfig) {
    // Checked by the config reader too; a bad pattern here would fail every login at once.
    if (config.uriSanPattern) new RegExp(config.uriSanPattern);
  }

  identify(req: IncomingMessage): Principal | null {
    const socket = req.socket as TLSSocket;
    if (socket.encrypted !== true || typeof socket.getPeerCertificate !== 'function') return null;
    let result = this.seen.get(socket);
    if (result === undefined) {
      result = this.read(socket);
      this.seen.set(socket, result);
    }
    if (result === null) return null;
    if ('problem' in result) throw new TokenInvalid(result.problem);
    return { username: result.identity, groups: [], method: this.method };
  }

  private read(socket: TLSSocket): IdentityResult | null {
    const peer = socket.getPeerCertificate();
    if (!peer || !peer.raw) return null; // no certificate: anonymous, or another method
    if (socket.authorized !== true) {
      return { problem: `the client certificate does not verify against http.tls.cacert (${String(socket.authorizationError ?? 'not verified')})` };
    }
    return certificateIdentity(peer.raw, this.config);
  }
}
