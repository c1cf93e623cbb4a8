/**
 * LdapAuthenticator (registry-image/src/auth/ldap/) against a real OpenLDAP slapd
 * (test/helpers/slapd.ts), without perch around it: the bind sequence, zot's example filter,
 * filter escaping, groups from the memberof overlay, the login cache, and what an unreachable,
 * misconfigured or TLS server gives. The end-to-end suite through perch is ldap.test.ts.
 */
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LdapConfig } from '../../registry-image/src/config/auth-types';
import { AuthUnavailable } from '../../registry-image/src/auth/authenticator';
import { LdapAuthenticator } from '../../registry-image/src/auth/ldap/ldap-authenticator';
import { escapeFilterValue, userSearchFilter } from '../../registry-image/src/auth/ldap/ldap-filter';
import { firstCn, groupNames } from '../../registry-image/src/auth/ldap/ldap-groups';
import { freePort } from '../helpers/ports';
import { GROUPS_DN, SEARCHER_DN, SEARCHER_PASSWORD, USERS_DN, startSlapd, type Slapd } from '../helpers/slapd';
import { recordingLogger } from './harness';

const USERS = [
  { uid: 'alice', password: 'Alice-Ldap-Pw-1', groups: ['writers', 'developers'] },
  { uid: 'bob', password: 'Bob-Ldap-Pw-2', groups: ['readers'] },
  { uid: 'locked', password: 'Locked-Ldap-Pw-3', groups: ['writers'], locked: true },
  { uid: 'contractor', password: 'Contractor-Pw-4', nested: true },
];
const ALICE = USERS[0];

function configFor(slapd: Slapd, over: Partial<LdapConfig> = {}): LdapConfig {
  return {
    address: '127.0.0.1',
    port: slapd.port,
    insecure: true,
    startTLS: false,
    skipVerify: false,
    subtreeSearch: true,
    baseDN: USERS_DN,
    userAttribute: 'uid',
    userFilter: '(!(nsaccountlock=TRUE))',
    userGroupAttribute: 'memberOf',
    bindDN: SEARCHER_DN,
    bindPassword: SEARCHER_PASSWORD,
    cacheTtlMs: 60_000,
    ...over,
  };
}

/** BIND lines slapd logged for a DN (stats level logs one per bind request). */
function bindsOf(slapd: Slapd, dn: string): number {
  return slapd.logs.filter((l) => l.includes(`BIND dn="${dn}" method=128`)).length;
}

describe('filter escaping and group names (pure)', () => {
  it('escapes the five RFC 4515 characters and nothing else', () => {
    expect(escapeFilterValue('a*b(c)d\\e\u0000f')).toBe('a\\2ab\\28c\\29d\\5ce\\00f');
    expect(escapeFilterValue('Zoë-élan_1.2')).toBe('Zoë-élan_1.2');
    expect(userSearchFilter('uid', 'admin)(uid=*', '(!(nsaccountlock=TRUE))')).toBe('(&(uid=admin\\29\\28uid=\\2a)(!(nsaccountlock=TRUE)))');
    expect(userSearchFilter('uid', 'x', 'objectClass=person')).toBe('(&(uid=x)(objectClass=person))');
    expect(userSearchFilter('uid', 'x')).toBe('(uid=x)');
  });

  it('gives a DN group both its CN and the DN, a plain value itself', () => {
    expect(groupNames(['cn=ldap-group,ou=Groups,dc=example,dc=org', 'developers'])).toEqual(['ldap-group', 'cn=ldap-group,ou=Groups,dc=example,dc=org', 'developers']);
    expect(firstCn('CN=R\\2C D\\+E,OU=Groups')).toBe('R, D+E');
    expect(firstCn('uid=x+cn=Both,ou=G')).toBe('Both');
    expect(firstCn('ou=NoCn,dc=x')).toBeUndefined();
    expect(firstCn('cn=caf\\C3\\A9,dc=x')).toBe('café');
    expect(firstCn('just a name')).toBeUndefined();
  });
});

describe('LdapAuthenticator against slapd', () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd({ users: USERS, groups: ['empty'], allowUnauthenticatedBind: true });
  });
  afterAll(() => slapd?.stop());

  it('logs a user in with the directory password and reports the memberOf groups as CN and DN', async () => {
    const { log } = recordingLogger();
    const ldap = new LdapAuthenticator(configFor(slapd), log);
    const principal = await ldap.check('alice', ALICE.password);
    expect(principal).not.toBeNull();
    expect(principal!.username).toBe('alice');
    expect(principal!.method).toBe('ldap');
    expect(new Set(principal!.groups)).toEqual(
      new Set(['writers', `cn=writers,${GROUPS_DN}`, 'developers', `cn=developers,${GROUPS_DN}`]),
    );
  });

  it('refuses a wrong password, an unknown user and an empty password', async () => {
    const ldap = new LdapAuthenticator(configFor(slapd), recordingLogger().log);
    expect(await ldap.check('alice', 'not-her-password')).toBeNull();
    expect(await ldap.check('nobody', ALICE.password)).toBeNull();
    expect(await ldap.check('alice', '')).toBeNull();
    expect(await ldap.check('', ALICE.password)).toBeNull();
  });

  it('never lets an empty password through, though this server accepts unauthenticated binds', async () => {
    // The server really does answer an unauthenticated bind (DN, no password) with success...
    const raw = new Client({ url: slapd.url });
    await expect(raw.bind(slapd.userDN('alice'), '')).resolves.toBeUndefined();
    await raw.unbind();
    // ...so only the authenticator's own rule keeps it out.
    const ldap = new LdapAuthenticator(configFor(slapd), recordingLogger().log);
    expect(await ldap.check('alice', '')).toBeNull();
  });

  it('looks names up literally: * and filter fragments do not log in', async () => {
    const ldap = new LdapAuthenticator(configFor(slapd), recordingLogger().log);
    // Unescaped, each of these filters would match alice alone, and her password would then log them in.
    for (const name of ['ali*', 'alice)(uid=*', 'alice)(|(uid=*', '*', 'al\\69ce']) {
      expect(await ldap.check(name, ALICE.password), name).toBeNull();
    }
    // The unescaped filter really would find alice (the test can fail).
    const raw = new Client({ url: slapd.url });
    await raw.bind(SEARCHER_DN, SEARCHER_PASSWORD);
    const { searchEntries } = await raw.search(USERS_DN, { scope: 'sub', filter: '(&(uid=ali*)(!(nsaccountlock=TRUE)))' });
    await raw.unbind();
    expect(searchEntries.map((e) => e.dn)).toEqual([slapd.userDN('alice')]);
  });

  it('uses the directory spelling of the name: ALICE logs in as alice', async () => {
    const ldap = new LdapAuthenticator(configFor(slapd), recordingLogger().log);
    expect((await ldap.check('ALICE', ALICE.password))?.username).toBe('alice');
  });

  it("applies zot's userFilter: a locked account is refused with it and allowed without", async () => {
    const locked = USERS[2];
    expect(await new LdapAuthenticator(configFor(slapd), recordingLogger().log).check('locked', locked.password)).toBeNull();
    expect(await new LdapAuthenticator(configFor(slapd, { userFilter: undefined }), recordingLogger().log).check('locked', locked.password)).not.toBeNull();
  });

  it('searches one level unless subtreeSearch is on', async () => {
    const nested = USERS[3];
    expect(await new LdapAuthenticator(configFor(slapd, { subtreeSearch: false }), recordingLogger().log).check('contractor', nested.password)).toBeNull();
    expect(await new LdapAuthenticator(configFor(slapd, { subtreeSearch: false }), recordingLogger().log).check('alice', ALICE.password)).not.toBeNull();
    expect(await new LdapAuthenticator(configFor(slapd, { subtreeSearch: true }), recordingLogger().log).check('contractor', nested.password)).toMatchObject({ username: 'contractor', groups: [] });
  });

  it('refuses a login when more than one entry matches, and says why in the log', async () => {
    const { log, lines } = recordingLogger();
    // Every user entry is an inetOrgPerson: with objectClass as the login attribute the name is ambiguous.
    const ldap = new LdapAuthenticator(configFor(slapd, { userAttribute: 'objectClass' }), log);
    expect(await ldap.check('inetOrgPerson', ALICE.password)).toBeNull();
    expect(lines.some((l) => l.includes('more than one entry matches'))).toBe(true);
  });

  it('without userGroupAttribute reports no groups', async () => {
    const ldap = new LdapAuthenticator(configFor(slapd, { userGroupAttribute: undefined }), recordingLogger().log);
    expect((await ldap.check('alice', ALICE.password))?.groups).toEqual([]);
  });

  it('a refused search account is a 503-kind failure naming the account, never its password', async () => {
    const { log, lines } = recordingLogger();
    const ldap = new LdapAuthenticator(configFor(slapd, { bindPassword: 'wrong-search-password' }), log);
    const err = await ldap.check('alice', ALICE.password).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthUnavailable);
    expect((err as Error).message).toContain(SEARCHER_DN);
    expect((err as Error).message).toContain('credentialsFile');
    for (const text of [(err as Error).message, ...lines]) {
      expect(text).not.toContain('wrong-search-password');
      expect(text).not.toContain(ALICE.password);
    }
  });

  it('a baseDN that does not exist is a 503-kind failure naming it', async () => {
    const ldap = new LdapAuthenticator(configFor(slapd, { baseDN: 'ou=Nobody,dc=example,dc=org' }), recordingLogger().log);
    await expect(ldap.check('alice', ALICE.password)).rejects.toThrow(/ou=Nobody,dc=example,dc=org.*baseDN/);
  });

  it('without a search account searches anonymously (servers that allow it)', async () => {
    const open = await startSlapd({ users: [ALICE], anonymousSearch: true });
    try {
      const ldap = new LdapAuthenticator(configFor(open, { bindDN: '', bindPassword: '' }), recordingLogger().log);
      expect((await ldap.check('alice', ALICE.password))?.username).toBe('alice');
      expect(bindsOf(open, SEARCHER_DN)).toBe(0);
      expect(bindsOf(open, open.userDN('alice'))).toBe(1);
      // A server that lets anonymous callers only bind refuses the search: a configuration problem
      // (503 naming the fix), not every user's wrong password.
      const closed = new LdapAuthenticator(configFor(slapd, { bindDN: '', bindPassword: '' }), recordingLogger().log);
      await expect(closed.check('alice', ALICE.password)).rejects.toThrow(/does not let anonymous callers search ou=Users,dc=example,dc=org: insufficientAccessRights \(LDAP result 50\).*credentialsFile/);
    } finally {
      await open.stop();
    }
  });

  it('caches a success for cacheTTL (no bind), never a failure, and sees group changes after it', async () => {
    const own = await startSlapd({ users: [ALICE, USERS[1]] });
    let clock = 1_000_000;
    const ldap = new LdapAuthenticator(configFor(own, { cacheTtlMs: 2000 }), recordingLogger().log, { now: () => clock });
    try {
      const dn = own.userDN('alice');
      expect((await ldap.check('alice', ALICE.password))?.groups).toContain('writers');
      expect(bindsOf(own, dn)).toBe(1);
      // Twenty parallel checks and ten more in a row inside the TTL: still one bind.
      await Promise.all(Array.from({ length: 20 }, () => ldap.check('alice', ALICE.password)));
      for (let i = 0; i < 10; i++) await ldap.check('alice', ALICE.password);
      expect(bindsOf(own, dn)).toBe(1);
      // Failures are asked every time.
      for (let i = 0; i < 3; i++) expect(await ldap.check('alice', 'wrong')).toBeNull();
      expect(bindsOf(own, dn)).toBe(4);

      await own.removeFromGroup('alice', 'writers');
      expect(await own.memberOf('alice')).not.toContain(own.groupDN('writers'));
      clock += 1999;
      expect((await ldap.check('alice', ALICE.password))?.groups, 'inside the TTL the cached groups stand').toContain('writers');
      clock += 1;
      expect((await ldap.check('alice', ALICE.password))?.groups, 'after the TTL the directory decides').not.toContain('writers');
      expect(bindsOf(own, dn)).toBe(5);

      // A changed password: the old one works until the TTL, then not; the new one at once.
      await own.setPassword('alice', 'Alice-New-Pw-9');
      expect(await ldap.check('alice', ALICE.password)).not.toBeNull();
      expect(await ldap.check('alice', 'Alice-New-Pw-9')).not.toBeNull();
      clock += 2000;
      expect(await ldap.check('alice', ALICE.password)).toBeNull();

      // Parallel concurrent first logins of the same credentials share one bind.
      clock += 2000;
      const before = bindsOf(own, dn);
      const results = await Promise.all(Array.from({ length: 10 }, () => ldap.check('alice', 'Alice-New-Pw-9')));
      expect(results.every((r) => r?.username === 'alice')).toBe(true);
      expect(bindsOf(own, dn) - before).toBe(1);

      // With the server gone, the cached success still answers, but a new check is unavailable.
      await own.stop();
      expect(await ldap.check('alice', 'Alice-New-Pw-9')).not.toBeNull();
      await expect(ldap.check('alice', 'wrong')).rejects.toBeInstanceOf(AuthUnavailable);
    } finally {
      await own.stop();
    }
  });

  it('an unreachable server throws AuthUnavailable naming address and port, logged once, recovery logged', async () => {
    const own = await startSlapd({ users: [ALICE] });
    const { log, lines } = recordingLogger();
    const ldap = new LdapAuthenticator(configFor(own, { cacheTtlMs: 0 }), log);
    try {
      expect(await ldap.check('alice', ALICE.password)).not.toBeNull();
      await own.stop();
      for (let i = 0; i < 3; i++) {
        const err = await ldap.check('alice', ALICE.password).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AuthUnavailable);
        expect((err as Error).message).toContain(`ldap://127.0.0.1:${own.port}`);
        expect((err as Error).message).toContain(`port ${own.port}`);
        expect((err as Error).message).toMatch(/unreachable.*ECONNREFUSED/);
      }
      expect(lines.filter((l) => l.includes('LDAP server unavailable'))).toHaveLength(1);
      await own.restart();
      expect(await ldap.check('alice', ALICE.password)).not.toBeNull();
      expect(lines.some((l) => l.includes('LDAP server answers again'))).toBe(true);
      for (const l of lines) expect(l).not.toContain(ALICE.password);
    } finally {
      await own.stop();
    }
  });

  it('a port nobody listens on is unavailable at once, not after a timeout', async () => {
    const port = await freePort();
    const ldap = new LdapAuthenticator(configFor(slapd, { port }), recordingLogger().log);
    const started = Date.now();
    await expect(ldap.check('alice', ALICE.password)).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${port}.*unreachable`));
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('LdapAuthenticator over TLS', () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd({ users: [ALICE], tls: true });
  });
  afterAll(() => slapd?.stop());

  const tls = (over: Partial<LdapConfig>) => configFor(slapd, { insecure: false, ...over });

  it('LDAPS with caCert logs in; without it the certificate is refused with a message saying what to set', async () => {
    const ok = new LdapAuthenticator(tls({ port: slapd.ldapsPort!, caCert: slapd.caCert }), recordingLogger().log);
    expect((await ok.check('alice', ALICE.password))?.username).toBe('alice');
    expect(slapd.logs.some((l) => /conn=\d+ fd=\d+ TLS established/.test(l))).toBe(true);

    const untrusted = new LdapAuthenticator(tls({ port: slapd.ldapsPort! }), recordingLogger().log);
    const err = await untrusted.check('alice', ALICE.password).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthUnavailable);
    expect((err as Error).message).toMatch(new RegExp(`ldaps://127\\.0\\.0\\.1:${slapd.ldapsPort}.*TLS.*caCert`));

    const skip = new LdapAuthenticator(tls({ port: slapd.ldapsPort!, skipVerify: true }), recordingLogger().log);
    expect((await skip.check('alice', ALICE.password))?.username).toBe('alice');
  });

  it('StartTLS with caCert logs in over the upgraded connection; a wrong CA is refused', async () => {
    const before = slapd.logs.filter((l) => l.includes('EXT oid=1.3.6.1.4.1.1466.20037')).length;
    const ok = new LdapAuthenticator(tls({ port: slapd.port, startTLS: true, caCert: slapd.caCert }), recordingLogger().log);
    expect((await ok.check('alice', ALICE.password))?.username).toBe('alice');
    expect(slapd.logs.filter((l) => l.includes('EXT oid=1.3.6.1.4.1.1466.20037')).length).toBeGreaterThan(before);

    const other = await startSlapd({ users: [], tls: true });
    try {
      const wrongCa = new LdapAuthenticator(tls({ port: slapd.port, startTLS: true, caCert: other.caCert }), recordingLogger().log);
      await expect(wrongCa.check('alice', ALICE.password)).rejects.toThrow(/StartTLS.*TLS/);
    } finally {
      await other.stop();
    }
  });

  it('a missing caCert file stops the authenticator at construction, naming the file', () => {
    expect(() => new LdapAuthenticator(tls({ port: slapd.ldapsPort!, caCert: '/nonexistent/ca.pem' }), recordingLogger().log)).toThrow(/caCert: \/nonexistent\/ca\.pem cannot be read/);
  });
});
