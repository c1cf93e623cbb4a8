/**
 * The conformance suite against an auth-enabled registry with no anonymous access, once with
 * Basic challenges and once with Bearer (the suite then fetches tokens from /v2/token), and
 * in the same run an unauthenticated push refused with 401 and a challenge.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '../helpers/conformance';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';

const USER = 'conformance';
const PASSWORD = 'c0nformance-pass';

let running: RunningRegistry | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe.each(['basic', 'bearer'] as const)('conformance with auth, %s challenge', (challenge) => {
  it('passes every check, and refuses an anonymous push with 401', async () => {
    const secret = tempDir('perch-secret-');
    writeFileSync(join(secret, 'htpasswd'), `${USER}:${bcrypt.hashSync(PASSWORD, 4)}\n`);
    running = await startRegistry({
      config: {
        http: { auth: { htpasswd: { path: join(secret, 'htpasswd') } } },
        perch: { auth: { challenge, tokenKeyFile: join(secret, 'token.key') } },
      },
    });
    const anonymous = await fetch(`${running.url}/v2/conformance/anon/blobs/uploads/`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(challenge === 'basic' ? /^Basic / : /^Bearer realm="[^"]+\/v2\/token"/);
    expect(((await anonymous.json()) as { errors: Array<{ code: string }> }).errors[0].code).toBe('UNAUTHORIZED');

    const run = await runConformance({ registryHost: running.host, username: USER, password: PASSWORD, runName: `perch-auth-${challenge}` });
    console.log(run.summary.split('\n')[0]);
    expect(run.cases.length, run.summary).toBeGreaterThan(100);
    expect({ failed: run.counts.failure, errors: run.counts.error, skipped: run.counts.skipped }, run.summary).toEqual({ failed: 0, errors: 0, skipped: 0 });
    // The password never reaches the registry's log.
    expect(running.logs.join('\n')).not.toContain(PASSWORD);
  }, 240_000);
});
