/**
 * The cost of authentication: the (d) workload (small images, where per-request costs show
 * most) against each registry twice, anonymous and with htpasswd basic auth (one bcrypt
 * entry made by `htpasswd -Bbn`, the client sending credentials on every request as clients
 * do after the first challenge). The four servers alternate within every run; the figure
 * is authenticated/anonymous throughput per run. Goal for ours: >= 0.9.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAlternating, type BenchContext, type PlannedServer } from '../harness';
import { variantRatioRow, variantRow, type Goal, type Table } from '../report';
import type { BasicAuthFile, ServerSpec } from '../servers/types';
import { warmUp } from './image-phases';
import { measureSmallImages, smallImages } from './d-small-images';

function makeHtpasswd(dir: string): BasicAuthFile {
  const username = 'bench';
  const password = randomBytes(12).toString('base64url');
  const entry = execFileSync('htpasswd', ['-Bbn', username, password], { encoding: 'utf8' }).trim();
  const path = join(dir, 'htpasswd');
  writeFileSync(path, `${entry}\n`, { mode: 0o600 });
  return { path, username, password };
}

/** Does this registry start with auth on? Some builds may not have it wired yet. */
async function authWorks(ctx: BenchContext, spec: ServerSpec, auth: BasicAuthFile): Promise<string | undefined> {
  const dataDir = join(ctx.workDir, `auth-probe-${spec.kind}`);
  mkdirSync(dataDir, { recursive: true });
  try {
    const server = await spec.start({ dataDir, auth });
    const res = await fetch(`${server.url}/v2/`);
    await server.stop();
    return res.status === 401 ? undefined : `GET /v2/ without credentials answered ${res.status}, not 401`;
  } catch (err) {
    return (err as Error).message.split('\n').slice(0, 3).join(' | ');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const ratioGoal: Goal = {
  text: 'ours >= 0.90',
  check: (v) => (v.ours ? v.ours.median >= 0.9 : undefined),
};

export async function authenticated(ctx: BenchContext): Promise<Table> {
  const count = ctx.quick ? 40 : 300;
  const concurrency = 32;
  const auth = makeHtpasswd(ctx.workDir);
  const notes: string[] = [];
  const planned: PlannedServer[] = [];
  for (const spec of ctx.servers.filter((s) => s.supportsAuth)) {
    const problem = await authWorks(ctx, spec, auth);
    if (problem) {
      notes.push(`${spec.label} with htpasswd auth is left out: ${problem}`);
      continue;
    }
    planned.push(spec, { ...spec, key: `${spec.kind}+auth`, start: (o) => spec.start({ ...o, auth }) });
  }
  const creds = (key: string) => (key.endsWith('+auth') ? auth : undefined);
  const results = await runAlternating(ctx, {
    id: 'auth',
    servers: planned,
    prepare: (run) => smallImages(`auth-run${run}`, count, 'bench-auth'),
    warmup: (server, key) => warmUp(server.url, () => smallImages('auth-warm', ctx.quick ? 8 : 32, 'bench-auth'), creds(key)),
    measure: (server, images, _run, key) => measureSmallImages(server, images, concurrency, ctx.log, creds(key)),
  });
  rmSync(auth.path, { force: true });
  return {
    title: `authenticated vs anonymous: ${count} small images, concurrency ${concurrency}, htpasswd basic (bcrypt)`,
    rows: [
      variantRatioRow(results, 'pushImgs', '+auth', '', 'push images/s, authenticated/anonymous', ratioGoal),
      variantRatioRow(results, 'pullImgs', '+auth', '', 'pull images/s, authenticated/anonymous', ratioGoal),
      variantRow(results, 'pushImgs', '', 'push, anonymous', 'images/s'),
      variantRow(results, 'pushImgs', '+auth', 'push, authenticated', 'images/s'),
      variantRow(results, 'pullImgs', '', 'pull, anonymous', 'images/s'),
      variantRow(results, 'pullImgs', '+auth', 'pull, authenticated', 'images/s'),
      variantRow(results, 'errors', '+auth', 'errors, authenticated', 'count'),
    ],
    notes,
  };
}
