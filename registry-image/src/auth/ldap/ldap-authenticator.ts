/**
 * LDAP as a PasswordAuthenticator (../authenticator.ts): zot's http.auth.ldap
 * (examples/config-ldap.json, pkg/api/ldap.go), so a `docker login` with a directory password
 * works. For each login not in the cache:
 *
 *   1. connect (ldap-connection.ts: LDAPS, StartTLS or plain, as configured)
 *   2. bind as the search account (bindDN/bindPassword from credentialsFile), or stay
 *      anonymous when there is none
 *   3. search baseDN (subtreeSearch: the whole subtree, else one level, as zot) for
 *      `(&(<userAttribute>=<user, RFC 4515-escaped>)<userFilter>)`; exactly one entry must match
 *   4. bind as that entry's DN with the password
 *   5. the entry's userGroupAttribute values become groups (ldap-groups.ts: a DN value gives
 *      both its CN and the whole DN, so accessControl may name a group either way)
 *
 * Decisions:
 * - An empty password is refused before any network traffic: a simple bind with a DN and no
 *   password is an "unauthenticated bind" (RFC 4513 section 5.1.2) that many servers answer
 *   with success. An empty user name is refused too.
 * - The user name perch uses is the entry's own value of userAttribute (uid "alice" for a login
 *   typed "Alice": directories match uid without regard to case, policies by exact name).
 * - Refused (null, the caller answers 401 after failDelay): no entry, more than one entry, a
 *   bind the server refuses as wrong credentials (invalid credentials, inappropriate auth,
 *   unwilling to perform, constraint violation, insufficient access: the last three are how
 *   servers say "locked" or "disabled").
 * - Unavailable (throws AuthUnavailable, 503): the server cannot be reached or TLS fails (the
 *   message names the URL and says what to check), the server is busy or times out, the search
 *   account is refused, or baseDN does not exist. Those are the server's or the config's
 *   problem, not the user's wrong password, and must not look like one. No message or log line
 *   carries a password; the search account's DN is named, its password never.
 * - Every check opens its own connection and unbinds it after. A shared connection would have
 *   to be rebound as the search account after each user bind and serialised (zot holds a lock
 *   for that), which makes every login wait for the slowest; with the cache below a connection
 *   per uncached login is cheap, and a server restart never leaves a broken shared connection.
 * - Successful results are cached (ldap-login-cache.ts) for cacheTTL; failures never are.
 *   Concurrent checks of the same credentials (a client's parallel blob uploads) share one
 *   lookup instead of binding once each.
 * - No readiness(): a registry whose LDAP server is down still serves htpasswd users,
 *   anonymous pulls and the UI, and Kubernetes would take every replica out of its Service
 *   together if each reported not ready for a server they all share. Logins answer 503 naming
 *   the server instead, and the log says when it went away and when it came back.
 * - No stillValid(): a perch token issued after an LDAP login lives to its expiry
 *   (perch.auth.tokenTTL), as groups read at login do for cacheTTL.
 */
import { InsufficientAccessError, InappropriateAuthError, InvalidCredentialsError, NoSuchObjectError, ResultCodeError, SizeLimitExceededError, ConstraintViolationError, UnwillingToPerformError, type Client, type Entry } from 'ldapts';
import type { LdapConfig } from '../../config/auth-types';
import type { Logger } from '../../log';
import { AuthUnavailable, type PasswordAuthenticator, type Principal } from '../authenticator';
import { ldapEndpoint, type LdapEndpoint } from './ldap-connection';
import { isAttributeDescription, userSearchFilter } from './ldap-filter';
import { groupNames } from './ldap-groups';
import { LdapLoginCache } from './ldap-login-cache';

export interface LdapAuthenticatorOptions {
  now?: () => number;
  /** For tests of an unresponsive server; defaults in ldap-connection.ts. */
  connectTimeoutMs?: number;
  operationTimeoutMs?: number;
}

/** Result codes with which a server refuses a user's bind (wrong, locked or disabled), not a fault. */
const REFUSED_BIND = [InvalidCredentialsError, InappropriateAuthError, UnwillingToPerformError, ConstraintViolationError, InsufficientAccessError];

export class LdapAuthenticator implements PasswordAuthenticator {
  readonly method = 'ldap';
  private readonly endpoint: LdapEndpoint;
  private readonly cache: LdapLoginCache;
  private readonly pending = new Map<string, Promise<Principal | null>>();
  /** Why the server was last unavailable; undefined while it answers (for log lines on change only). */
  private down: string | undefined;

  constructor(
    private readonly config: LdapConfig,
    private readonly log: Logger,
    options: LdapAuthenticatorOptions = {},
  ) {
    if (!isAttributeDescription(config.userAttribute)) {
      throw new Error(`http.auth.ldap.userAttribute ${JSON.stringify(config.userAttribute)} is not an attribute name; give one such as "uid", "cn" or "sAMAccountName"`);
    }
    if (config.userGroupAttribute !== undefined && !isAttributeDescription(config.userGroupAttribute)) {
      throw new Error(`http.auth.ldap.userGroupAttribute ${JSON.stringify(config.userGroupAttribute)} is not an attribute name; give one such as "memberOf"`);
    }
    this.endpoint = ldapEndpoint(config, { connectMs: options.connectTimeoutMs, operationMs: options.operationTimeoutMs });
    this.cache = new LdapLoginCache(config.cacheTtlMs, options.now ?? Date.now);
  }

  async check(user: string, password: string): Promise<Principal | null> {
    if (user === '' || password === '') return null;
    const key = this.cache.keyOf(user, password);
    const cached = this.cache.get(key);
    if (cached) return cached;
    let lookup = this.pending.get(key);
    if (!lookup) {
      lookup = this.lookup(user, password)
        .then((principal) => {
          if (principal) this.cache.set(key, principal);
          return principal;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, lookup);
    }
    const principal = await lookup;
    return principal && { ...principal, groups: [...principal.groups] };
  }

  close(): void {
    this.cache.clear();
  }

  private async lookup(user: string, password: string): Promise<Principal | null> {
    const { config } = this;
    const client = await this.endpoint.open().catch((err: unknown) => {
      throw this.unavailable(err, 'connect');
    });
    try {
      if (config.bindDN !== '') {
        await client.bind(config.bindDN, config.bindPassword).catch((err: unknown) => {
          throw this.unavailable(err, 'search-bind');
        });
      }
      const entry = await this.findUser(client, user);
      if (!entry) return null;
      try {
        await client.bind(entry.dn, password);
      } catch (err) {
        if (REFUSED_BIND.some((type) => err instanceof type)) {
          this.markUp();
          this.log.debug('LDAP bind refused', { user, dn: entry.dn, reason: (err as Error).message });
          return null;
        }
        throw this.unavailable(err, 'user-bind');
      }
      this.markUp();
      return {
        username: this.canonicalName(entry, user),
        groups: config.userGroupAttribute ? groupNames(values(entry, config.userGroupAttribute)) : [],
        method: this.method,
      };
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  /** The one entry for `user`, or undefined (none, or more than one: a login must name one person). */
  private async findUser(client: Client, user: string): Promise<Entry | undefined> {
    const { config } = this;
    const filter = userSearchFilter(config.userAttribute, user, config.userFilter);
    const attributes = [config.userAttribute, ...(config.userGroupAttribute ? [config.userGroupAttribute] : [])];
    let entries: Entry[];
    let beyondLimit = false;
    try {
      ({ searchEntries: entries } = await client.search(config.baseDN, { scope: config.subtreeSearch ? 'sub' : 'one', filter, attributes, sizeLimit: 2 }));
    } catch (err) {
      // sizeLimit 2 exceeded: at least three entries match; refused below like two.
      if (!(err instanceof SizeLimitExceededError)) throw this.unavailable(err, 'search');
      entries = [];
      beyondLimit = true;
    }
    this.markUp();
    if (entries.length === 1 && !beyondLimit) return entries[0];
    if (entries.length > 1 || beyondLimit) {
      this.log.warn('LDAP login refused: more than one entry matches the user', { user, baseDN: config.baseDN, filter, entries: entries.map((e) => e.dn), fix: 'make userAttribute unique under baseDN, or narrow it with userFilter' });
    } else {
      this.log.debug('LDAP login refused: no entry matches the user', { user, baseDN: config.baseDN, filter });
    }
    return undefined;
  }

  private canonicalName(entry: Entry, typed: string): string {
    const own = values(entry, this.config.userAttribute);
    return own.find((v) => v === typed) ?? own.find((v) => v.toLowerCase() === typed.toLowerCase()) ?? typed;
  }

  /** An AuthUnavailable naming the server and what to check; logged once per outage. */
  private unavailable(err: unknown, step: 'connect' | 'search-bind' | 'search' | 'user-bind'): AuthUnavailable {
    const reason = describeFailure(err, step, this.endpoint, this.config);
    if (this.down !== reason) {
      this.log.error('LDAP server unavailable: logins with LDAP passwords answer 503', { server: this.endpoint.url, reason });
    }
    this.down = reason;
    return new AuthUnavailable(reason);
  }

  private markUp(): void {
    if (this.down === undefined) return;
    this.down = undefined;
    this.log.info('LDAP server answers again', { server: this.endpoint.url });
  }
}

/** An attribute's values as strings, its name matched without regard to case (servers return their own spelling). */
function values(entry: Entry, attribute: string): string[] {
  const name = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  if (name === undefined || name === 'dn') return [];
  const v = entry[name];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
}

/** RFC 4511 section 4.1.9 names of the result codes a login can meet. */
const RESULT_NAMES: Record<number, string> = {
  1: 'operationsError', 2: 'protocolError', 3: 'timeLimitExceeded', 4: 'sizeLimitExceeded', 7: 'authMethodNotSupported',
  8: 'strongerAuthRequired', 11: 'adminLimitExceeded', 13: 'confidentialityRequired', 19: 'constraintViolation',
  32: 'noSuchObject', 34: 'invalidDNSyntax', 48: 'inappropriateAuthentication', 49: 'invalidCredentials',
  50: 'insufficientAccessRights', 51: 'busy', 52: 'unavailable', 53: 'unwillingToPerform', 80: 'other',
};

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME|ALTNAME/;

function describeFailure(err: unknown, step: string, endpoint: LdapEndpoint, config: LdapConfig): string {
  const e = err as NodeJS.ErrnoException & { code?: unknown };
  const server = `LDAP server ${endpoint.url} (http.auth.ldap.address ${config.address}, port ${config.port}, ${endpoint.protection})`;
  const message = (e?.message ?? String(err)).replace(/\s+/g, ' ').trim();
  if (err instanceof ResultCodeError) {
    // ldapts's messages are often just "Code: 0x32"; RFC 4511's name says what the code means.
    const what = `${RESULT_NAMES[err.code] ?? 'result'} (LDAP result ${err.code}${/^Code: 0x[0-9a-f]+$/i.test(message) ? '' : `: ${message}`})`;
    if (step === 'search-bind') {
      return `${server} refused the search account ${config.bindDN}: ${what}; check bindDN and bindPassword in http.auth.ldap.credentialsFile`;
    }
    if (step === 'search' && err instanceof NoSuchObjectError) {
      return `${server} has no entry ${config.baseDN}: ${what}; check http.auth.ldap.baseDN`;
    }
    if (step === 'search' && err instanceof InsufficientAccessError) {
      const who = config.bindDN === '' ? 'anonymous callers' : `the search account ${config.bindDN}`;
      return `${server} does not let ${who} search ${config.baseDN}: ${what}; ${config.bindDN === '' ? 'give a search account (bindDN, bindPassword) in http.auth.ldap.credentialsFile' : 'grant that account read access to the users'}`;
    }
    return `${server} could not complete the login (${step}): ${what}`;
  }
  const code = typeof e?.code === 'string' ? e.code : '';
  if (TLS_CODES.test(code) || /certificate|tls|ssl/i.test(message)) {
    return `${server} failed TLS: ${message}; give the CA that signed its certificate in http.auth.ldap.caCert (or set skipVerify), and check that startTLS/insecure match what the server speaks`;
  }
  return `${server} is unreachable: ${message}; check that it runs and that address and port are right`;
}
