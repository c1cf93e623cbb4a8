/**
 * A throwaway OpenLDAP server (Debian's slapd) for the LDAP login tests: `startSlapd()` writes
 * a slapd.conf into a temp folder, starts `slapd -d` in the foreground on a free loopback port
 * as the current user (root in CI), seeds it, and `stop()` ends that one process by its id.
 *
 * What it serves (suffix dc=example,dc=org, zot's examples' names):
 *   ou=Users    a search account cn=ldap-searcher (zot's config-ldap-credentials.json) and the
 *               users given, each an inetOrgPerson with uid and an {SSHA} userPassword
 *   ou=Groups   groupOfNames groups; group membership is `member` on the group
 * Users' groups come back as `memberOf` from slapd's memberof overlay (shipped in the slapd
 * package), the way Active Directory and 389-DS answer, which is what zot's example reads
 * (userGroupAttribute "memberOf"). groupOfNames must have a member, so every group also lists
 * the search account: removing a test user never leaves a group empty.
 *
 * zot's example filter is `(!(nsaccountlock=TRUE))` (389-DS's lock flag). OpenLDAP's schemas do
 * not define nsAccountLock, and a filter on an unknown attribute is Undefined, so the NOT
 * would match nobody; the helper adds that one attribute (389-DS's OID) and an auxiliary class
 * to carry it (OpenLDAP's experimental arc 1.3.6.1.4.1.4203.666), so `locked` users can be made.
 *
 * Access: a user may read its own entry and bind; the search account (and other bound users)
 * may read everything except passwords; anonymous callers may only bind, unless
 * `anonymousSearch` opens reading to them too (for the no-bindDN case).
 *
 * `tls: true` adds an ldaps:// listener and StartTLS on the ldap:// one, with a certificate for
 * 127.0.0.1 and localhost from a CA made by openssl (`caCert` is that CA's PEM file).
 *
 * Seeding and the run-time changes (group membership, passwords) go through ldapmodify as the
 * rootDN, a client independent of the ldapts library the code under test uses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './ports';
import { runCommand } from './run-command';
import { tempDir } from './temp-dir';

export const SUFFIX = 'dc=example,dc=org';
export const USERS_DN = `ou=Users,${SUFFIX}`;
export const GROUPS_DN = `ou=Groups,${SUFFIX}`;
export const SEARCHER_DN = `cn=ldap-searcher,${USERS_DN}`;
export const SEARCHER_PASSWORD = 'ldap-searcher-password';

export interface SlapdUser {
  uid: string;
  password: string;
  /** Group cn values (under ou=Groups) the user is a member of at start. */
  groups?: string[];
  /** nsAccountLock: TRUE (zot's example filter refuses such users). */
  locked?: boolean;
  /** Put the user one level below ou=Users (ou=Contractors,ou=Users): only a subtree search finds it. */
  nested?: boolean;
}

export interface SlapdOptions {
  users: SlapdUser[];
  /** Group cn values to create (groups named by users are created too). */
  groups?: string[];
  anonymousSearch?: boolean;
  /**
   * `allow bind_anon_dn`: a bind with a DN and an empty password succeeds as anonymous (RFC 4513
   * section 5.1.2, "unauthenticated bind"), as some servers do; proves a client refuses empty passwords itself.
   */
  allowUnauthenticatedBind?: boolean;
  tls?: boolean;
}

export interface Slapd {
  host: '127.0.0.1';
  /** ldap:// port (StartTLS too when tls is on). */
  port: number;
  /** ldaps:// port when tls is on. */
  ldapsPort?: number;
  /** The CA certificate (PEM file) when tls is on. */
  caCert?: string;
  /** The CA and the server's certificate and key (for 127.0.0.1 and localhost) when tls is on; other servers in a test may use them too. */
  tlsFiles?: { ca: string; cert: string; key: string };
  url: string;
  /** slapd's own output (stats level: one line per operation), for failure messages. */
  logs: string[];
  userDN(uid: string): string;
  groupDN(cn: string): string;
  addToGroup(uid: string, group: string): Promise<void>;
  removeFromGroup(uid: string, group: string): Promise<void>;
  setPassword(uid: string, password: string): Promise<void>;
  /** memberOf of a user as slapd reports it (to check the overlay did its work). */
  memberOf(uid: string): Promise<string[]>;
  stop(): Promise<void>;
  /** Starts it again on the same ports with the same data (after stop()). */
  restart(): Promise<void>;
}

const ROOT_DN = `cn=admin,${SUFFIX}`;
const MODULE_PATH = '/usr/lib/ldap';
const SCHEMA_DIR = '/etc/ldap/schema';

/** RFC 2307 {SSHA}: salted SHA-1, what slappasswd writes by default. */
function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

const LOCK_SCHEMA = `attributetype ( 2.16.840.1.113730.3.1.610 NAME 'nsAccountLock'
  DESC '389-DS account lock flag, for zot example filters'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.11.99.1 NAME 'perchLockable' AUXILIARY MAY nsAccountLock )
`;

function slapdConf(dir: string, rootPassword: string, options: SlapdOptions, certs?: { ca: string; cert: string; key: string }): string {
  const anonymous = options.anonymousSearch ? 'by anonymous read' : 'by anonymous auth';
  return [
    `include ${SCHEMA_DIR}/core.schema`,
    `include ${SCHEMA_DIR}/cosine.schema`,
    `include ${SCHEMA_DIR}/inetorgperson.schema`,
    `include ${SCHEMA_DIR}/nis.schema`,
    `include ${join(dir, 'lock.schema')}`,
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    `modulepath ${MODULE_PATH}`,
    ...(options.allowUnauthenticatedBind ? ['allow bind_anon_dn'] : []),
    'moduleload back_mdb',
    'moduleload memberof',
    ...(certs ? [`TLSCACertificateFile ${certs.ca}`, `TLSCertificateFile ${certs.cert}`, `TLSCertificateKeyFile ${certs.key}`] : []),
    'database mdb',
    `suffix "${SUFFIX}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${ssha(rootPassword)}`,
    `directory ${join(dir, 'db')}`,
    'maxsize 67108864',
    'overlay memberof',
    'memberof-group-oc groupOfNames',
    'memberof-member-ad member',
    'memberof-memberof-ad memberOf',
    'memberof-refint TRUE',
    'access to attrs=userPassword by self write by * auth',
    `access to * by users read ${anonymous} by * none`,
    '',
  ].join('\n');
}

function seedLdif(options: SlapdOptions): string {
  const groups = new Set(options.groups ?? []);
  for (const u of options.users) for (const g of u.groups ?? []) groups.add(g);
  const entries: string[] = [
    `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example`,
    `dn: ${USERS_DN}\nobjectClass: organizationalUnit\nou: Users`,
    `dn: ou=Contractors,${USERS_DN}\nobjectClass: organizationalUnit\nou: Contractors`,
    `dn: ${GROUPS_DN}\nobjectClass: organizationalUnit\nou: Groups`,
    `dn: ${SEARCHER_DN}\nobjectClass: person\ncn: ldap-searcher\nsn: searcher\nuserPassword: ${ssha(SEARCHER_PASSWORD)}`,
  ];
  for (const u of options.users) {
    const lines = [
      `dn: ${userDNOf(u)}`,
      'objectClass: inetOrgPerson',
      'objectClass: perchLockable',
      `uid: ${u.uid}`,
      `cn: ${u.uid}`,
      `sn: ${u.uid}`,
      `userPassword: ${ssha(u.password)}`,
    ];
    if (u.locked) lines.push('nsAccountLock: TRUE');
    entries.push(lines.join('\n'));
  }
  // Groups after users, so the memberof overlay sees members that exist.
  for (const g of groups) {
    const members = options.users.filter((u) => (u.groups ?? []).includes(g)).map((u) => `member: ${userDNOf(u)}`);
    entries.push([`dn: cn=${g},${GROUPS_DN}`, 'objectClass: groupOfNames', `cn: ${g}`, `member: ${SEARCHER_DN}`, ...members].join('\n'));
  }
  return entries.map((e) => `${e}\n`).join('\n');
}

function userDNOf(u: SlapdUser): string {
  return u.nested ? `uid=${u.uid},ou=Contractors,${USERS_DN}` : `uid=${u.uid},${USERS_DN}`;
}

async function makeCerts(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  const ssl = (args: string[]) => runCommand('openssl', args, { timeoutMs: 30_000 });
  await ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=perch test LDAP CA']);
  await ssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1']);
  await ssl(['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { ca, cert, key };
}

/** Resolves once something accepts TCP connections on the port. */
async function waitForPort(port: number, child: ChildProcess, logs: string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`slapd exited (${child.exitCode ?? child.signalCode}) before listening on ${port}:\n${logs.slice(-30).join('\n')}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`slapd did not listen on 127.0.0.1:${port} in ${timeoutMs} ms:\n${logs.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startSlapd(options: SlapdOptions): Promise<Slapd> {
  const dir = tempDir('perch-slapd-');
  mkdirSync(join(dir, 'db'));
  writeFileSync(join(dir, 'lock.schema'), LOCK_SCHEMA);
  const rootPassword = randomBytes(12).toString('hex');
  const certs = options.tls ? await makeCerts(dir) : undefined;
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, slapdConf(dir, rootPassword, options, certs));
  const port = await freePort();
  const ldapsPort = options.tls ? await freePort() : undefined;
  const urls = [`ldap://127.0.0.1:${port}/`, ...(ldapsPort ? [`ldaps://127.0.0.1:${ldapsPort}/`] : [])];
  const url = `ldap://127.0.0.1:${port}`;
  const logs: string[] = [];
  let child: ChildProcess | undefined;

  const launch = async () => {
    // -d keeps slapd in the foreground (no fork), so this child is the server and its pid is ours to stop.
    const proc = spawn('/usr/sbin/slapd', ['-f', conf, '-h', urls.join(' '), '-d', 'stats'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.on('error', (err) => logs.push(`could not start slapd: ${err.message} (install it: apt-get install slapd ldap-utils, or scripts/install-tools.sh)`));
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(line);
      if (logs.length > 2000) logs.splice(0, logs.length - 1000);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    child = proc;
    // A worker that dies without afterAll must not leave a slapd behind on the port.
    const orphanGuard = () => proc.kill('SIGKILL');
    process.once('exit', orphanGuard);
    proc.once('exit', () => process.removeListener('exit', orphanGuard));
    await waitForPort(port, proc, logs);
    if (ldapsPort) await waitForPort(ldapsPort, proc, logs);
  };

  const modify = (ldif: string) =>
    runCommand('ldapmodify', ['-x', '-H', url, '-D', ROOT_DN, '-y', join(dir, 'root.pw')], { input: ldif, timeoutMs: 15_000 }).then(() => undefined);
  writeFileSync(join(dir, 'root.pw'), rootPassword, { mode: 0o600 });

  const users = new Map(options.users.map((u) => [u.uid, u]));
  const userDN = (uid: string) => {
    const u = users.get(uid);
    return u ? userDNOf(u) : `uid=${uid},${USERS_DN}`;
  };
  const groupDN = (cn: string) => `cn=${cn},${GROUPS_DN}`;

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await once(proc, 'exit');
    clearTimeout(timer);
  };

  await launch();
  try {
    await runCommand('ldapadd', ['-x', '-H', url, '-D', ROOT_DN, '-y', join(dir, 'root.pw')], { input: seedLdif(options), timeoutMs: 15_000 });
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    host: '127.0.0.1',
    port,
    ...(ldapsPort ? { ldapsPort } : {}),
    ...(certs ? { caCert: certs.ca, tlsFiles: certs } : {}),
    url,
    logs,
    userDN,
    groupDN,
    addToGroup: (uid, group) => modify(`dn: ${groupDN(group)}\nchangetype: modify\nadd: member\nmember: ${userDN(uid)}\n`),
    removeFromGroup: (uid, group) => modify(`dn: ${groupDN(group)}\nchangetype: modify\ndelete: member\nmember: ${userDN(uid)}\n`),
    setPassword: (uid, password) => modify(`dn: ${userDN(uid)}\nchangetype: modify\nreplace: userPassword\nuserPassword: ${ssha(password)}\n`),
    memberOf: async (uid) => {
      const r = await runCommand('ldapsearch', ['-x', '-LLL', '-H', url, '-D', ROOT_DN, '-y', join(dir, 'root.pw'), '-b', userDN(uid), '-s', 'base', '(objectClass=*)', 'memberOf'], { timeoutMs: 15_000 });
      return [...r.stdout.matchAll(/^memberOf: (.*)$/gm)].map((m) => m[1]);
    },
    stop,
    restart: launch,
  };
}
