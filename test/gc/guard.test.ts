/** The shared/exclusive gate between push handlers and the collector (gc/guard.ts). */
import { describe, expect, it } from 'vitest';
import { ReferenceGuard } from '../../registry-image/src/gc/guard';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ReferenceGuard', () => {
  it('shared holders run together', async () => {
    const guard = new ReferenceGuard();
    const gate = deferred();
    const a = guard.shared(() => gate.promise);
    const b = guard.shared(() => gate.promise);
    await tick();
    expect(guard.state().shared).toBe(2);
    gate.resolve();
    await Promise.all([a, b]);
    expect(guard.state()).toEqual({ shared: 0, exclusive: false, waiting: 0 });
  });

  it('exclusive waits for shared holders inside, and newcomers wait behind it', async () => {
    const guard = new ReferenceGuard();
    const order: string[] = [];
    const inside = deferred();
    const first = guard.shared(async () => {
      await inside.promise;
      order.push('shared-1 done');
    });
    const ex = guard.exclusive(async () => {
      order.push('exclusive');
      await tick();
      order.push('exclusive done');
    });
    const late = guard.shared(async () => {
      order.push('shared-2');
    });
    await tick();
    expect(order).toEqual([]);
    expect(guard.state()).toMatchObject({ shared: 1, exclusive: false, waiting: 2 });
    inside.resolve();
    await Promise.all([first, ex, late]);
    expect(order).toEqual(['shared-1 done', 'exclusive', 'exclusive done', 'shared-2']);
  });

  it('releases the gate when the work throws', async () => {
    const guard = new ReferenceGuard();
    await expect(guard.exclusive(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(guard.shared(async () => 'ok')).resolves.toBe('ok');
    expect(guard.state()).toEqual({ shared: 0, exclusive: false, waiting: 0 });
  });
});
