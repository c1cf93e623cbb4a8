/**
 * Real clients log in to the bundled registry (startRegistry: `perch serve` as a child
 * process) with Basic challenges and with Bearer tokens: helm 3 and helm 4 registry
 * login/push/pull/logout, crane auth login + copy, skopeo --creds, oras -u/-p.
 *
 * The access control mixes grants: roost-test may do everything, `reader` may only read,
 * anonymous callers may read public/**. That is the case where `/v2/` must challenge every
 * client (docker-family clients only send credentials after a challenge there).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { writeSingleImageLayout } from '../helpers/oci-layout';
import { getManifest } from '../helpers/registry-api';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { tempDir, writeHtpasswd } from './harness';

const USER = 'roost-test';
const PASSWORD = 'Helm-Pusher-Pw-7';
const READER_PASSWORD = 'Only-Reads-Pw-3';

const ACCESS_CONTROL = {
  repositories: {
    '**': { policies: [{ users: [USER], actions: ['read', 'create', 'update', 'delete'] }], defaultPolicy: ['read'] },
    'public/**': { policies: [{ users: [USER], actions: ['read', 'create', 'update', 'delete'] }], defaultPolicy: ['read'], anonymousPolicy: ['read'] },
  },
};

function makeChart(dir: string, name: string, version: string): string {
  const chart = join(dir, name);
  execFileSync('mkdir', ['-p', join(chart, 'templates')]);
  writeFileSync(join(chart, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\ndescription: auth test chart\ntype: application\n`);
  writeFileSync(join(chart, 'values.yaml'), 'message: hello\n');
  writeFileSync(join(chart, 'templates', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  message: {{ .Values.message | quote }}\n');
  return chart;
}

for (const challenge of ['basic', 'bearer'] as const) {
  describe(`real clients with ${challenge} challenges`, () => {
    let registry: RunningRegistry;
    /** Each test its own client home: a login one client stores (crane writes DOCKER_CONFIG) must not leak into the next. */
    let home: ClientHome;
    let dir: string;

    const run = (cmd: string, args: string[], options: { input?: string; allowFailure?: boolean; cwd?: string } = {}) =>
      runCommand(cmd, args, { env: home.env, timeoutMs: 90_000, ...options });

    beforeEach(() => {
      home = makeClientHome(`perch-auth-${challenge}-`);
    });
    afterEach(() => home.remove());

    beforeAll(async () => {
      dir = tempDir('perch-clients-');
      writeHtpasswd(join(dir, 'htpasswd'), { [USER]: PASSWORD, reader: READER_PASSWORD }, 10);
      registry = await startRegistry({
        config: {
          http: { auth: { htpasswd: { path: join(dir, 'htpasswd') } }, accessControl: ACCESS_CONTROL },
          perch: { auth: { challenge, tokenKeyFile: join(dir, 'token.key') } },
        },
      });
    });
    afterAll(async () => {
      await registry?.stop();
    });

    it('answers /v2/ with the configured challenge', async () => {
      const res = await fetch(`${registry.url}/v2/`);
      expect(res.status).toBe(401);
      const expected = challenge === 'basic' ? 'Basic realm="perch"' : `Bearer realm="${registry.url}/v2/token",service="${registry.host}"`;
      expect(res.headers.get('www-authenticate')).toBe(expected);
    });

    for (const helm of ['helm3', 'helm4']) {
      it(`${helm}: registry login, push, pull, logout`, async () => {
        const work = home.folder(`${helm}-work`);
        const chart = makeChart(work, `${helm}-chart`, '0.1.0');
        await run(helm, ['package', chart, '--destination', work]);
        const tgz = join(work, `${helm}-chart-0.1.0.tgz`);

        const wrong = await run(helm, ['registry', 'login', registry.host, '--plain-http', '-u', USER, '--password-stdin'], { input: 'Wr0ng-Pw\n', allowFailure: true });
        expect(wrong.code).not.toBe(0);

        await run(helm, ['registry', 'login', registry.host, '--plain-http', '-u', USER, '--password-stdin'], { input: `${PASSWORD}\n` });
        await run(helm, ['push', tgz, `oci://${registry.host}/charts`, '--plain-http']);
        const served = await getManifest(registry.url, `charts/${helm}-chart`, '0.1.0', { username: USER, password: PASSWORD });
        expect(served.status).toBe(200);

        const pulled = home.folder(`${helm}-pulled`);
        await run(helm, ['pull', `oci://${registry.host}/charts/${helm}-chart`, '--version', '0.1.0', '--destination', pulled, '--plain-http']);
        expect(readdirSync(pulled)).toEqual([`${helm}-chart-0.1.0.tgz`]);
        expect(readFileSync(join(pulled, `${helm}-chart-0.1.0.tgz`)).equals(readFileSync(tgz))).toBe(true);

        await run(helm, ['registry', 'logout', registry.host]);
        const afterLogout = await run(helm, ['push', tgz, `oci://${registry.host}/charts`, '--plain-http'], { allowFailure: true });
        expect(afterLogout.code).not.toBe(0);
        // Basic: helm has no credential to answer the challenge with; Bearer: the anonymous token lacks push.
        expect(afterLogout.stderr).toMatch(/basic credential not found|401|unauthorized|authentication required/i);
      });
    }

    it('helm pulls anonymously what anonymousPolicy allows', async () => {
      const work = home.folder('anon-work');
      const chart = makeChart(work, 'open-chart', '1.0.0');
      await run('helm3', ['package', chart, '--destination', work]);
      await run('helm3', ['registry', 'login', registry.host, '--plain-http', '-u', USER, '--password-stdin'], { input: `${PASSWORD}\n` });
      await run('helm3', ['push', join(work, 'open-chart-1.0.0.tgz'), `oci://${registry.host}/public`, '--plain-http']);
      await run('helm3', ['registry', 'logout', registry.host]);
      const pulled = home.folder('anon-pulled');
      await run('helm3', ['pull', `oci://${registry.host}/public/open-chart`, '--version', '1.0.0', '--destination', pulled, '--plain-http']);
      expect(readdirSync(pulled)).toEqual(['open-chart-1.0.0.tgz']);
    });

    it('crane: auth login, then copy between repositories; a read-only user cannot copy in', async () => {
      const image = writeSingleImageLayout(home.folder('crane-src'), 'v1', 'crane-auth');
      await run('skopeo', ['--policy', home.skopeoPolicy, 'copy', '--dest-creds', `${USER}:${PASSWORD}`, '--dest-tls-verify=false', `oci:${image.dir}:v1`, `docker://${registry.host}/crane/src:v1`]);
      await run('crane', ['auth', 'login', registry.host, '-u', USER, '--password-stdin'], { input: PASSWORD });
      await run('crane', ['copy', `${registry.host}/crane/src:v1`, `${registry.host}/crane/dst:v1`]);
      expect((await run('crane', ['digest', `${registry.host}/crane/dst:v1`])).stdout.trim()).toBe(image.manifest.digest);

      await run('crane', ['auth', 'login', registry.host, '-u', 'reader', '--password-stdin'], { input: READER_PASSWORD });
      expect((await run('crane', ['digest', `${registry.host}/crane/dst:v1`])).stdout.trim()).toBe(image.manifest.digest);
      const denied = await run('crane', ['copy', `${registry.host}/crane/src:v1`, `${registry.host}/crane/other:v1`], { allowFailure: true });
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/DENIED|denied|UNAUTHORIZED|unauthorized/);
    });

    it('skopeo: --dest-creds and --src-creds, and a wrong password is refused', async () => {
      const image = writeSingleImageLayout(home.folder('skopeo-src'), 'v1', 'skopeo-auth');
      const skopeo = (args: string[], allowFailure = false) => run('skopeo', ['--policy', home.skopeoPolicy, ...args], { allowFailure });
      await skopeo(['copy', '--dest-creds', `${USER}:${PASSWORD}`, '--dest-tls-verify=false', `oci:${image.dir}:v1`, `docker://${registry.host}/skopeo/app:v1`]);
      const out = home.folder('skopeo-out');
      await skopeo(['copy', '--src-creds', `reader:${READER_PASSWORD}`, '--src-tls-verify=false', `docker://${registry.host}/skopeo/app:v1`, `oci:${out}:v1`]);
      const wrong = await skopeo(['copy', '--dest-creds', `${USER}:Wr0ng-Pw`, '--dest-tls-verify=false', `oci:${image.dir}:v1`, `docker://${registry.host}/skopeo/app:v2`], true);
      expect(wrong.code).not.toBe(0);
      // Anonymous: reads public/**, nothing else.
      await skopeo(['copy', '--dest-creds', `${USER}:${PASSWORD}`, '--dest-tls-verify=false', `oci:${image.dir}:v1`, `docker://${registry.host}/public/app:v1`]);
      await skopeo(['inspect', '--tls-verify=false', `docker://${registry.host}/public/app:v1`]);
      expect((await skopeo(['inspect', '--tls-verify=false', `docker://${registry.host}/skopeo/app:v1`], true)).code).not.toBe(0);
    });

    it('oras: push and pull with -u/-p', async () => {
      const work = home.folder('oras-work');
      writeFileSync(join(work, 'note.txt'), 'pushed with credentials\n');
      const creds = ['-u', USER, '-p', PASSWORD, '--plain-http'];
      await run('oras', ['push', `${registry.host}/oras/notes:v1`, 'note.txt:text/plain', ...creds], { cwd: work });
      const out = home.folder('oras-out');
      await run('oras', ['pull', `${registry.host}/oras/notes:v1`, '-o', out, '-u', 'reader', '-p', READER_PASSWORD, '--plain-http']);
      expect(readFileSync(join(out, 'note.txt'), 'utf8')).toBe('pushed with credentials\n');
      const anonymous = await run('oras', ['pull', `${registry.host}/oras/notes:v1`, '-o', home.folder('oras-anon'), '--plain-http'], { allowFailure: true });
      expect(anonymous.code).not.toBe(0);
    });

    it('never logs a password or an Authorization header', () => {
      const text = registry.logs.join('\n');
      expect(text).toContain('login refused');
      for (const secret of [PASSWORD, READER_PASSWORD, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')]) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\./);
    });
  });
}
