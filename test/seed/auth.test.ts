/**
 * `perch seed` against the bundled perch server with htpasswd logins, once with Basic and
 * once with Bearer challenges: credentials from the environment and from stdin, a wrong
 * password, no credentials, and a user who may only read. Nothing it prints holds the password.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, SEED_CHARTS, SEED_ENV } from '../../registry-image/src/seed';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';
import { makeHelmHome, seedCli, type HelmHome, type SeedRun } from './seed-helpers';

const USER = 'roost-test';
const PASSWORD = 'Seed-Pusher-Pw-42';
const READER = 'reader';
const READER_PASSWORD = 'Only-Reads-Pw-9';
const CHARTS_DIR = join(__dirname, '../../registry-image/charts');

const ACCESS_CONTROL = {
  repositories: {
    '**': {
      policies: [
        { users: [USER], actions: ['read', 'create', 'update', 'delete'] },
        { users: [READER], actions: ['read'] },
      ],
      defaultPolicy: [],
    },
  },
};

const noSecret = (run: SeedRun) => {
  expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  expect(run.stdout + run.stderr).not.toContain(READER_PASSWORD);
};

describe.each(['basic', 'bearer'] as const)('perch seed with %s challenges', (challenge) => {
  let registry: RunningRegistry;
  let dir: string;
  let home: HelmHome;
  const args = (...more: string[]) => ['--registry', registry.url, '--chart', 'nginx-test@1.0.0', '--timeout', '10s', ...more];

  beforeAll(async () => {
    dir = tempDir('perch-seed-auth-');
    // Cost 4 keeps bcrypt light on the shared CPU; the format is what htpasswd -B writes.
    const entry = (user: string, password: string) => `${user}:${bcrypt.hashSync(password, 4).replace(/^\$2b\$/, '$2y$')}`;
    writeFileSync(join(dir, 'htpasswd'), `${entry(USER, PASSWORD)}\n${entry(READER, READER_PASSWORD)}\n`);
    registry = await startRegistry({
      config: {
        http: { auth: { htpasswd: { path: join(dir, 'htpasswd') } }, accessControl: ACCESS_CONTROL },
        perch: { auth: { challenge, tokenKeyFile: join(dir, 'token.key') } },
      },
    });
    home = makeHelmHome();
  });
  afterAll(async () => {
    await registry?.stop();
    home?.remove();
  });

  it('without credentials: says the registry needs them and how to pass them (exit 1)', async () => {
    const run = await seedCli(args());
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `perch seed: the registry at ${registry.url} requires credentials (GET /v2/ answered 401): pass --username and --password-stdin, or set PERCH_SEED_USERNAME and PERCH_SEED_PASSWORD\n`,
    );
  });

  it('a wrong password: "authentication failed" naming the user, before any push (exit 1)', async () => {
    const run = await seedCli(args(), { [SEED_ENV.username]: USER, [SEED_ENV.password]: `${PASSWORD}-wrong` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`^perch seed: authentication failed: the registry at ${registry.url} did not accept the password of user "${USER}" \\(.*401 UNAUTHORIZED.*\\)\\. Check the username and password: pass --username and --password-stdin, or set PERCH_SEED_USERNAME and PERCH_SEED_PASSWORD\\n$`),
    );
    expect(run.stdout + run.stderr).not.toContain(`${PASSWORD}-wrong`);
    const login = await home.helm('helm3', ['registry', 'login', registry.host, '--username', USER, '--password-stdin', '--plain-http'], { input: 'not-it\n', allowFailure: true });
    expect(login.code).not.toBe(0);
    expect(login.stderr).toMatch(/401|unauthorized/i);
  });

  it('a user who may only read: the push is refused with the OCI error and what permission is missing (exit 1)', async () => {
    const run = await seedCli(args('--username', READER, '--password-stdin'), {}, { stdin: `${READER_PASSWORD}\n` });
    noSecret(run);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^perch seed: the registry at ${registry.url} refused the upload of blob sha256:[0-9a-f]{64} to roost-test/nginx-test: 403 DENIED: [^\\n]+\\. User "${READER}" needs permission to push to roost-test/nginx-test \\(zot accessControl: "create", and "update" to replace a tag\\)\\.\\n$`,
      ),
    );
  });

  it('credentials from the environment push; from stdin a rerun finds it all there; helm pulls it with a login', async () => {
    const first = await seedCli(args(), { [SEED_ENV.username]: USER, [SEED_ENV.password]: PASSWORD });
    noSecret(first);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`seeding 1 chart(s) to ${registry.url} as ${USER}`);
    expect(first.stdout).toContain('done: 1 pushed, 0 already present');

    const again = await seedCli(args('--username', USER, '--password-stdin'), {}, { stdin: `${PASSWORD}\n` });
    noSecret(again);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('done: 0 pushed, 1 already present');

    await home.helm('helm4', ['registry', 'login', registry.host, '--username', USER, '--password-stdin', '--plain-http'], { input: `${PASSWORD}\n` });
    const out = home.folder(`pulled-${challenge}`);
    await home.helm('helm4', ['pull', `oci://${registry.host}/roost-test/nginx-test`, '--version', '1.0.0', '-d', out, '--plain-http']);
    const [expected] = buildArtifacts([SEED_CHARTS[0]], CHARTS_DIR, `oci://${registry.host}/roost-test`);
    expect(readFileSync(join(out, 'nginx-test-1.0.0.tgz')).equals(expected.layer.data)).toBe(true);
  });
});
