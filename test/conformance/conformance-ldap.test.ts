/**
 * The conformance suite with LDAP logins (http.auth.ldap against a throwaway slapd): with
 * Basic challenges the suite's credentials are checked by an LDAP bind (cached), with Bearer
 * challenges the token service checks them the same way before it issues tokens. Access is
 * given by the LDAP group, so the group mapping is exercised on every request.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '../helpers/conformance';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { SEARCHER_DN, SEARCHER_PASSWORD, startSlapd, USERS_DN, type Slapd } from '../helpers/slapd';
import { tempDir } from '../helpers/temp-dir';

const USER = 'conformance';
const PASSWORD = 'c0nformance-Ldap-pass';

let slapd: Slapd;
beforeAll(async () => {
  slapd = await startSlapd({ users: [{ uid: USER, password: PASSWORD, groups: ['registry-writers'] }] });
});
afterAll(async () => {
  await slapd?.stop();
});

describe.each(['basic', 'bearer'] as const)('conformance with LDAP logins, %s challenge', (challenge) => {
  let running: RunningRegistry | undefined;
  afterAll(async () => {
    await running?.stop();
  });

  it('passes every check, with access granted by the LDAP group', async () => {
    const secret = tempDir('perch-ldap-secret-');
    const credentials = join(secret, 'ldap-credentials.json');
    writeFileSync(credentials, JSON.stringify({ bindDN: SEARCHER_DN, bindPassword: SEARCHER_PASSWORD }), { mode: 0o600 });
    running = await startRegistry({
      config: {
        http: {
          auth: {
            ldap: { credentialsFile: credentials, address: '127.0.0.1', port: slapd.port, insecure: true, baseDN: USERS_DN, userAttribute: 'uid', userGroupAttribute: 'memberOf' },
          },
          accessControl: { repositories: { '**': { policies: [{ groups: ['registry-writers'], actions: ['read', 'create', 'update', 'delete'] }] } } },
        },
        perch: { auth: { challenge, tokenKeyFile: join(secret, 'token.key') } },
      },
    });
    const run = await runConformance({ registryHost: running.host, username: USER, password: PASSWORD, runName: `perch-ldap-${challenge}` });
    console.log(run.summary.split('\n')[0]);
    expect(run.cases.length, run.summary).toBeGreaterThan(100);
    expect({ failed: run.counts.failure, errors: run.counts.error, skipped: run.counts.skipped }, run.summary).toEqual({ failed: 0, errors: 0, skipped: 0 });
    expect(running.logs.join('\n')).not.toContain(PASSWORD);
  }, 240_000);
});
