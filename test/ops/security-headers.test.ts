/**
 * Security headers on every answer (success, error, probe), and Strict-Transport-Security only
 * over TLS to a host name: never over plain HTTP (RFC 6797 §7.2), never for localhost or an IP
 * address (browsers would apply it to every port of the developer's machine).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { send } from './harness';

const FRAME = { 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'", 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' };

describe('security headers', () => {
  let plain: RunningRegistry;
  let secure: RunningRegistry;
  beforeAll(async () => {
    [plain, secure] = await Promise.all([startRegistry(), startRegistry({ config: { perch: { tls: { selfSigned: { hosts: ['registry.roost.test'] } } } } })]);
  });
  afterAll(async () => {
    await Promise.all([plain?.stop(), secure?.stop()]);
  });

  it('are on successes, errors and probes over plain HTTP, without HSTS; errors are not cached', async () => {
    for (const path of ['/v2/', '/v2/nothing/here/manifests/latest', '/livez', '/health']) {
      const res = await send(`${plain.url}${path}`);
      expect(res.headers, path).toMatchObject(FRAME);
      expect(res.headers['strict-transport-security'], path).toBeUndefined();
    }
    const missing = await send(`${plain.url}/v2/nothing/here/manifests/latest`);
    expect(missing.status).toBe(404);
    expect(missing.headers['cache-control']).toBe('no-store');
    expect((await send(`${plain.url}/v2/`)).headers['cache-control']).toBeUndefined();
  });

  it('add HSTS over TLS to a host name, not to localhost or an address', async () => {
    const ca = readFileSync(join(secure.dataDir, 'tls', 'cert.pem'));
    const base = `https://127.0.0.1:${secure.port}`;
    const named = await send(`${base}/v2/`, { ca, servername: 'registry.roost.test', headers: { Host: `registry.roost.test:${secure.port}` } });
    expect(named.headers).toMatchObject({ ...FRAME, 'strict-transport-security': 'max-age=31536000' });
    const byAddress = await send(`${base}/v2/`, { ca });
    expect(byAddress.headers['strict-transport-security']).toBeUndefined();
    const local = await send(`${base}/v2/`, { ca, servername: 'localhost', headers: { Host: `localhost:${secure.port}` } });
    expect(local.headers['strict-transport-security']).toBeUndefined();
  });
});
