/**
 * withDefaultHeaders (http/respond.ts): the headers every response carries, merged into the
 * response's own writeHead. A handler's value wins in any letter case and however it was set;
 * a response that never calls writeHead (implicit headers) gets them too.
 */
import { createServer, request, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaultHeaders } from '../../registry-image/src/http/respond';

const DEFAULTS = { 'X-Frame-Options': 'DENY', 'Docker-Distribution-API-Version': 'registry/2.0' };

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
const server = createServer((req, res) => {
  withDefaultHeaders(res, DEFAULTS);
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

describe('withDefaultHeaders', () => {
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
