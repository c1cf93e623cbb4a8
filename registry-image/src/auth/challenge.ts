/**
 * WWW-Authenticate challenges (RFC 7235 §4.1; Bearer parameters from RFC 6750 §3 and the
 * Docker token specification, which every registry client implements):
 *
 *   Basic realm="perch"
 *   Bearer realm="https://host/v2/token",service="host",scope="repository:team/app:pull,push"
 *   Bearer realm="...",service="...",error="invalid_token"
 *
 * The realm and service come from http.externalUrl when set (a registry behind a proxy), else
 * from the request: its Host header and whether it arrived over TLS, or, behind a TLS-ending
 * proxy such as a Kubernetes Ingress, the proxy's X-Forwarded-Proto. (Trusting that header is
 * safe here: it only decides where the caller itself is sent for a token.) A Host header that
 * is not a plain host[:port] is not echoed; the listening address stands in for it.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { PerchConfig } from '../config/types';
import type { ChallengeContext } from './types';

export const TOKEN_PATH = '/v2/token';

const PLAIN_HOST = /^[A-Za-z0-9.\-_]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/** RFC 7230 quoted-string: backslash-escape `"` and `\`. */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function listenHost(config: PerchConfig): string {
  const address = config.http.address === '0.0.0.0' || config.http.address === '::' ? '127.0.0.1' : config.http.address;
  return `${address.includes(':') ? `[${address}]` : address}:${config.http.port}`;
}

/** Realm and service when there is no request to take them from. */
export function configChallengeContext(config: PerchConfig): ChallengeContext {
  if (config.http.externalUrl) return fromBaseUrl(config.http.externalUrl);
  const scheme = config.http.tls || config.perch.tlsSelfSigned ? 'https' : 'http';
  const host = listenHost(config);
  return { realm: `${scheme}://${host}${TOKEN_PATH}`, service: host };
}

function fromBaseUrl(base: string): ChallengeContext {
  const url = new URL(base);
  return { realm: `${base.replace(/\/+$/, '')}${TOKEN_PATH}`, service: url.host };
}

export function requestChallengeContext(req: IncomingMessage, config: PerchConfig): ChallengeContext {
  if (config.http.externalUrl) return fromBaseUrl(config.http.externalUrl);
  const header = req.headers.host;
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0].trim().toLowerCase();
  const encrypted = forwarded === 'https' || (forwarded !== 'http' && (req.socket as TLSSocket).encrypted === true);
  const host = header && header.length <= 262 && PLAIN_HOST.test(header) ? header : listenHost(config);
  return { realm: `${encrypted ? 'https' : 'http'}://${host}${TOKEN_PATH}`, service: host };
}

export function basicChallenge(realm: string): string {
  return `Basic realm=${quote(realm)}`;
}

export interface BearerOptions {
  /** e.g. `repository:team/app:pull,push` */
  scope?: string;
  /** RFC 6750 §3.1 error code. */
  error?: 'invalid_token' | 'insufficient_scope';
}

export function bearerChallenge(ctx: ChallengeContext, options: BearerOptions = {}): string {
  const params = [`realm=${quote(ctx.realm)}`, `service=${quote(ctx.service)}`];
  if (options.scope) params.push(`scope=${quote(options.scope)}`);
  if (options.error) params.push(`error=${quote(options.error)}`);
  return `Bearer ${params.join(',')}`;
}
