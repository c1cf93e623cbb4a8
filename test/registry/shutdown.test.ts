/**
 * A clean shutdown on SIGTERM (Kubernetes sends it before killing a pod): the listener
 * closes, an upload in flight is finished or resumable, and the process exits 0.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { sha256 } from '../helpers/oci-client';

let running: RunningRegistry | undefined;
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
});

describe('SIGTERM', () => {
  it('lets an upload in flight finish, exits 0, and the upload completes after a restart', async () => {
    running = await startRegistry();
    const { url, dataDir } = running;
    const start = await fetch(`${url}/v2/term/upload/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location')!;
    const first = Buffer.alloc(64 * 1024, 'a');
    const second = Buffer.alloc(64 * 1024, 'b');
    // A PATCH whose body arrives in two parts, with SIGTERM between them.
    const patched = new Promise<{ status: number; range: string | undefined }>((resolve, reject) => {
      const req = request(`${url}${location}`, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': first.length + second.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, range: res.headers.range as string | undefined }));
      });
      req.on('error', reject);
      req.write(first);
      setTimeout(() => {
        running!.process.kill('SIGTERM');
        setTimeout(() => req.end(second), 300);
      }, 200);
    });
    const result = await patched;
    expect(result).toEqual({ status: 202, range: `0-${first.length + second.length - 1}` });
    const exitCode = await new Promise<number | null>((resolve) => {
      if (running!.process.exitCode !== null) resolve(running!.process.exitCode);
      else running!.process.once('exit', (code) => resolve(code));
    });
    expect(exitCode).toBe(0);
    expect(running.logs.some((l) => l.includes('shutting down'))).toBe(true);

    running = await startRegistry({ dataDir });
    const digest = sha256(Buffer.concat([first, second]));
    const done = await fetch(`${running.url}${location}?digest=${digest}`, { method: 'PUT' });
    expect(done.status).toBe(201);
  });
});
