/**
 * RegistryResponse (http/respond.ts): the headers every response carries, merged into the
 * response's own writeHead. A handler's value wins in any letter case and however it was set;
 * a response that never calls writeHead (implicit headers) gets them too. And a registry
 * served by a plain http.Server (no RegistryResponse) still sends them.
 */
import { createServer, request, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHeaders, RegistryResponse } from '../../registry-image/src/http/respond';
import { silentLogger } from '../../registry-image/src/log';
import { createRegistry } from '../../registry-image/src/server';
import { MemoryStore } from '../../registry-image/src/storage/memory-store';
import { allowAll, testConfig } from '../helpers/in-process';

const DEFAULTS = defaultHeaders({ 'X-Frame-Options': 'DENY', 'Docker-Distribution-API-Version': 'registry/2.0' });

const handlers: Record<string, (res: ServerResponse) => void> = {
  '/plain': (res) => {
    res.writeHead(201, { 'Content-Length': 0, Location: '/x' });
    res.end();
  },
  '/implicit': (res) => res.end('body'),
  '/override-other-case': (res) => {
    res.writeHead(200, { 'x-frame-options': 'SAMEORIGIN' });
    res.end();
  },
  '/preset': (res) => {
    res.setHeader('X-Frame-Options', 'SAMEORIGIN');
    res.setHeader('Cache-Control', 'no-store');
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
  },
  '/raw-array': (res) => {
    res.writeHead(200, ['X-Frame-Options', 'SAMEORIGIN', 'X-Extra', '1']);
    res.end();
  },
  '/message': (res) => {
    res.writeHead(418, 'Short and stout', { 'Content-Length': 0 });
    res.end();
  },
};

let url: string;
const server = createServer({ ServerResponse: RegistryResponse }, (req, res) => {
  res.defaultHeaders = DEFAULTS;
  handlers[req.url!](res);
});
beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve())));
beforeAll(() => {
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function get(path: string): Promise<{ status: number; message: string; headers: IncomingHttpHeaders; raw: string[] }> {
  return new Promise((resolve, reject) => {
    request(`${url}${path}`, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, message: res.statusMessage!, headers: res.headers, raw: res.rawHeaders }));
    })
      .on('error', reject)
      .end();
  });
}

describe('RegistryResponse', () => {
  it('adds the defaults beside the handler headers', async () => {
    const res = await get('/plain');
    expect(res.status).toBe(201);
    expect(res.headers).toMatchObject({ location: '/x', 'x-frame-options': 'DENY', 'docker-distribution-api-version': 'registry/2.0' });
  });

  it('adds them to a response whose headers are implicit', async () => {
    const res = await get('/implicit');
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ 'x-frame-options': 'DENY', 'docker-distribution-api-version': 'registry/2.0' });
  });

  it.each(['/override-other-case', '/preset', '/raw-array'])('lets the handler value win, once (%s)', async (path) => {
    const res = await get(path);
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.raw.filter((name) => name.toLowerCase() === 'x-frame-options')).toHaveLength(1);
    expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  it('keeps headers set before writeHead and a status message', async () => {
    expect((await get('/preset')).headers['cache-control']).toBe('no-store');
    expect((await get('/raw-array')).headers['x-extra']).toBe('1');
    const res = await get('/message');
    expect([res.status, res.message]).toEqual([418, 'Short and stout']);
    expect(res.headers['x-frame-options']).toBe('DENY');
  });
});

describe('a registry on a plain http.Server', () => {
  it('sets the default headers itself', async () => {
    const registry = createRegistry({ config: testConfig(), store: new MemoryStore(), auth: allowAll, log: silentLogger });
    const plain = createServer(registry.handle);
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      for (const path of ['/v2/', '/v2/nothing/manifests/latest']) {
        const res = await fetch(`http://127.0.0.1:${(plain.address() as AddressInfo).port}${path}`);
        expect(res.headers.get('docker-distribution-api-version'), path).toBe('registry/2.0');
        expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      }
    } finally {
      plain.closeAllConnections();
      await new Promise((resolve) => plain.close(resolve));
    }
  });
});
