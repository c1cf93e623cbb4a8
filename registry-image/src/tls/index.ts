/**
 * HTTPS for `perch serve`, from one of two places (docs/operations.md):
 * - http.tls.cert + http.tls.key (zot's keys): PEM files, reloaded when they change (reload.ts);
 *   http.tls.cacert (zot's key) asks clients for a certificate and refuses one it does not
 *   verify, but lets clients without one connect, as zot does with or without
 *   http.auth.mtls (tls.VerifyClientCertIfGiven: such clients are anonymous, or log in with a
 *   password or token). The refusal is at the connection: a certificate that does not verify
 *   gets no HTTP answer at all (Go fails zot's handshake the same way), and the log says why.
 *   Who a verified certificate names is auth/mtls-authenticator.ts's business;
 * - perch.tls.selfSigned.hosts: a certificate perch makes and keeps under the storage root
 *   (self-signed.ts).
 * Neither: plain HTTP (undefined).
 */
import { readFile } from 'node:fs/promises';
import type { ServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { PerchConfig } from '../config/types';
import type { TlsServer, TlsServing } from '../http/hooks';
import type { Logger } from '../log';
import { inspectPair, type CertificateInfo } from './certificate';
import { PairWatcher } from './reload';
import { selfSignedCertificate } from './self-signed';

export { inspectPair, certificateNames, type CertificateInfo } from './certificate';
export { selfSignedCertificate, selfSignedPaths, selfSignedNames, SELF_SIGNED_VALIDITY_DAYS, RENEW_BEFORE_DAYS } from './self-signed';

export const DEFAULT_RELOAD_INTERVAL_MS = 5_000;

export interface TlsSetup extends TlsServing {
  source: 'configured' | 'self-signed';
  certPath: string;
  /** The certificate being served now. */
  current(): CertificateInfo;
  /** When it was loaded (start, or the last reload). */
  loadedAt(): Date;
}

export interface TlsOptions {
  reloadIntervalMs?: number;
  now?: () => number;
}

async function readConfigured(path: string, key: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new Error(`http.tls.${key} ${path} cannot be read (${code}); give a readable PEM file, or remove http.tls to serve plain HTTP`);
  }
}

/** Loads or makes the certificate the config asks for; throws a message naming the key to fix. */
export async function prepareTls(config: PerchConfig, log: Logger, options: TlsOptions = {}): Promise<TlsSetup | undefined> {
  const configured = config.http.tls;
  if (configured?.cert && configured.key) {
    // Both read at once, but a problem is reported in a fixed order (cert, then key), so the
    // message does not depend on which read happened to fail first.
    const [certRead, keyRead] = await Promise.allSettled([readConfigured(configured.cert, 'cert'), readConfigured(configured.key, 'key')]);
    if (certRead.status === 'rejected') throw certRead.reason;
    if (keyRead.status === 'rejected') throw keyRead.reason;
    const [cert, key] = [certRead.value, keyRead.value];
    let info: CertificateInfo;
    try {
      info = inspectPair(cert, key);
    } catch (err) {
      throw new Error(`http.tls.cert ${configured.cert} and http.tls.key ${configured.key}: ${(err as Error).message}`);
    }
    const ca = configured.cacert ? await readConfigured(configured.cacert, 'cacert') : undefined;
    if (ca && !ca.toString('utf8').includes('-----BEGIN CERTIFICATE-----')) {
      throw new Error(`http.tls.cacert ${configured.cacert} holds no PEM certificate; give the CA that signs client certificates, or remove the key`);
    }
    log.info('tls: serving the configured certificate', { path: configured.cert, fingerprint: info.fingerprint256, notAfter: info.notAfter.toISOString(), clientCertificates: ca ? 'verified if given' : 'not asked' });
    return servingSetup('configured', configured.cert, { cert, key, info }, ca, log, (watch) => new PairWatcher(configured.cert!, configured.key!, options.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS, log, watch));
  }
  const selfSigned = config.perch.tlsSelfSigned;
  if (!selfSigned) return undefined;
  const made = await selfSignedCertificate(config.storage.rootDirectory, selfSigned.hosts, log, options.now);
  log.info(made.reused ? 'tls: serving the stored self-signed certificate' : 'tls: made a self-signed certificate', {
    path: made.paths.cert,
    fingerprint: made.info.fingerprint256,
    names: made.info.names,
    notAfter: made.info.notAfter.toISOString(),
  });
  return servingSetup('self-signed', made.paths.cert, { cert: Buffer.from(made.cert), key: Buffer.from(made.key), info: made.info }, undefined, log, undefined);
}

function servingSetup(
  source: TlsSetup['source'],
  certPath: string,
  initial: { cert: Buffer; key: Buffer; info: CertificateInfo },
  ca: Buffer | undefined,
  log: Logger,
  makeWatcher: ((onChange: (pair: { cert: Buffer; key: Buffer; info: CertificateInfo }) => void) => PairWatcher) | undefined,
): TlsSetup {
  let info = initial.info;
  let loadedAt = new Date();
  // zot: tls.VerifyClientCertIfGiven. Node can only require-and-verify (rejectUnauthorized) or
  // not verify; so ask, accept any handshake, and drop a connection whose certificate failed.
  // (Node's own rejectUnauthorized also drops after the handshake: OpenSSL is told to accept
  // every chain and Node judges it once the handshake is done.)
  const clientAuth: ServerOptions = ca ? { ca, requestCert: true, rejectUnauthorized: false } : {};
  const options: ServerOptions = { cert: initial.cert, key: initial.key, ...clientAuth };
  return {
    source,
    certPath,
    options,
    current: () => info,
    loadedAt: () => loadedAt,
    attach(server: TlsServer): () => void {
      if (ca) {
        server.on('secureConnection', (socket: TLSSocket) => {
          const peer = socket.getPeerCertificate();
          if (!peer?.raw || socket.authorized) return;
          // The subject of a refused certificate is what the operator needs to find the client; it is no secret.
          log.warn('tls: client certificate refused: it does not verify against http.tls.cacert', {
            reason: socket.authorizationError instanceof Error ? socket.authorizationError.message : String(socket.authorizationError),
            subject: peer.subject ? Object.entries(peer.subject).map(([k, v]) => `${k}=${String(v)}`).join(', ') : undefined,
            issuer: peer.issuer ? Object.entries(peer.issuer).map(([k, v]) => `${k}=${String(v)}`).join(', ') : undefined,
            address: socket.remoteAddress,
          });
          socket.destroy();
        });
      }
      if (!makeWatcher) return () => {};
      const watcher = makeWatcher((pair) => {
        server.setSecureContext({ cert: pair.cert, key: pair.key, ...(ca ? { ca } : {}) });
        info = pair.info;
        loadedAt = new Date();
      });
      void watcher.start();
      return () => watcher.stop();
    },
  };
}
