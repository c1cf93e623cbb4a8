/**
 * The cost of authentication: the (d) workload (small images, where per-request costs show
 * most) against each registry twice, anonymous and with htpasswd basic auth (one bcrypt
 * entry made by `htpasswd -Bbn`, the client sending credentials on every request as clients
 * do after the first challenge). The servers alternate within every run; the figure is
 * authenticated/anonymous throughput per run. Goal for ours: >= 0.9.
 *
 * perch also runs with two other login methods the peer does not have:
 * - "ours+oidc": http.auth.openid.providers naming a real OpenID provider on loopback
 *   (test/helpers/oidc-provider.ts, npm oidc-provider, in this process), the client sending
 *   alice's access token (an RS256 JWT, fetched once before the runs, lifetime longer than
 *   the scenario) as `Authorization: Bearer` on every request; accessControl grants her group
 *   "developers" everything (as test/auth/oidc-bearer.test.ts).
 * - "ours+ldap": http.auth.ldap against Debian's slapd on loopback (test/helpers/slapd.ts, as
 *   test/auth/ldap.test.ts), the client sending an LDAP user's Basic credentials on every
 *   request; perch's login cache at its default cacheTTL (1 minute), so a bind now and then;
 *   accessControl grants the user's memberOf group "developers" everything.
 * Either one left out, with a note, when its provider or slapd cannot start or perch refuses
 * the config.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOidcProvider } from '../../helpers/oidc-provider';
import { SEARCHER_DN, SEARCHER_PASSWORD, USERS_DN, startSlapd } from '../../helpers/slapd';
import { authorizationOf, type Credentials } from '../client/http';
import { runAlternating, type BenchContext, type PlannedServer } from '../harness';
import { variantRatioRow, variantRow, type Goal, type Row, type Table } from '../report';
import type { BasicAuthFile, ServerSpec, StartOptions } from '../servers/types';
import { runAfterAllHooks } from '../vitest-hooks';
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

/** An error's first lines, short enough for a table note. */
function brief(err: unknown): string {
  const text = (err as Error).message.split('\n').slice(0, 3).join(' | ');
  return text.length > 240 ? `${text.slice(0, 240)}...` : text;
}

/**
 * Does this registry start with this login on? Without credentials GET /v2/ must answer 401,
 * with them 200. Some builds may not have it wired yet.
 */
async function authWorks(ctx: BenchContext, spec: ServerSpec, options: Omit<StartOptions, 'dataDir'>, credentials: Credentials, name: string): Promise<string | undefined> {
  const dataDir = join(ctx.workDir, `auth-probe-${name}`);
  mkdirSync(dataDir, { recursive: true });
  try {
    const server = await spec.start({ dataDir, ...options });
    try {
      const anonymous = await fetch(`${server.url}/v2/`);
      if (anonymous.status !== 401) return `GET /v2/ without credentials answered ${anonymous.status}, not 401`;
      const known = await fetch(`${server.url}/v2/`, { headers: { Authorization: authorizationOf(credentials) } });
      if (known.status !== 200) return `GET /v2/ with credentials answered ${known.status}, not 200: ${(await known.text()).slice(0, 200)}`;
      return undefined;
    } finally {
      await server.stop();
    }
  } catch (err) {
    return brief(err);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A perch-only variant: another login method, with what the client sends and what to stop after. */
interface PerchVariant {
  suffix: '+oidc' | '+ldap';
  /** For notes and the probe's folder. */
  what: string;
  extraConfig: Record<string, unknown>;
  credentials: Credentials;
  stop(): Promise<void>;
}

/** accessControl: `group` may do everything everywhere, nobody else anything. */
const fullRightsFor = (group: string) => ({
  repositories: { '**': { policies: [{ groups: [group], actions: ['read', 'create', 'update', 'delete'] }], defaultPolicy: [] } },
});

/** Far longer than a full run of the scenario (minutes): one token serves every request. */
const TOKEN_TTL_SECONDS = 6 * 3600;

async function oidcVariant(): Promise<PerchVariant> {
  const idp = await startOidcProvider({ accessTokenTtlSeconds: TOKEN_TTL_SECONDS });
  try {
    const tokens = await idp.signIn('alice', idp.users.alice.password);
    if (tokens.expiresIn < TOKEN_TTL_SECONDS / 2) throw new Error(`the provider gave a token for ${tokens.expiresIn} s, asked for ${TOKEN_TTL_SECONDS}`);
    return {
      suffix: '+oidc',
      what: 'OpenID bearer token',
      extraConfig: {
        http: {
          auth: {
            openid: {
              providers: {
                bench: {
                  name: 'bench provider',
                  issuer: idp.issuer,
                  clientid: idp.clientId,
                  clientsecret: idp.clientSecret,
                  scopes: ['openid', 'profile', 'email', 'groups'],
                  claimMapping: { username: 'preferred_username', groups: 'groups' },
                },
              },
            },
          },
          accessControl: fullRightsFor('developers'),
        },
      },
      credentials: { bearer: tokens.accessToken },
      stop: () => idp.stop(),
    };
  } catch (err) {
    await idp.stop();
    throw err;
  }
}

async function ldapVariant(workDir: string): Promise<PerchVariant> {
  const user = { uid: 'bench', password: randomBytes(12).toString('base64url'), groups: ['developers'] };
  // The helper makes its folder with os.tmpdir(), which reads TMPDIR on every call: keep it
  // in the benchmark's folder (removed at the end whatever happens), as servers/seaweed.ts does.
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = workDir;
  let slapd: Awaited<ReturnType<typeof startSlapd>>;
  try {
    slapd = await startSlapd({ users: [user] });
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  // zot's credentials file shape; slapd's search account has exactly these values.
  const credentialsFile = join(workDir, 'ldap-credentials.json');
  writeFileSync(credentialsFile, JSON.stringify({ bindDN: SEARCHER_DN, bindPassword: SEARCHER_PASSWORD }), { mode: 0o600 });
  return {
    suffix: '+ldap',
    what: 'LDAP basic',
    extraConfig: {
      http: {
        auth: {
          ldap: {
            credentialsFile,
            address: slapd.host,
            port: slapd.port,
            insecure: true,
            baseDN: USERS_DN,
            userAttribute: 'uid',
            userGroupAttribute: 'memberOf',
            subtreeSearch: true,
          },
        },
        accessControl: fullRightsFor('developers'),
      },
    },
    credentials: { basic: { username: user.uid, password: user.password } },
    async stop() {
      await slapd.stop();
      rmSync(credentialsFile, { force: true });
      // The helper's folder removal, registered with "vitest" (the bench's vitest-hooks.ts).
      await runAfterAllHooks();
    },
  };
}

const ratioGoal: Goal = {
  text: 'ours >= 0.90',
  check: (v) => (v.ours ? v.ours.median >= 0.9 : undefined),
};

/**
 * The same 10% as server CPU: perch's CPU seconds for the run's pushes and pulls with the
 * method over those without. Throughput per run swings ±30% on these machines even when quiet
 * (a phase lasts 2-3 s), so its ratio rows can miss or pass by noise; CPU seconds for the same
 * work move far less, and the workload is CPU-bound, so this row is the method's cost.
 */
const cpuGoal: Goal = {
  text: 'ours <= 1.10',
  check: (v) => (v.ours ? v.ours.median <= 1.1 : undefined),
};
const cpuRow = (results: Parameters<typeof variantRatioRow>[0], suffix: string, name: string): Row =>
  variantRatioRow(results, 'serverCpuSeconds', suffix, '', `server CPU s, ${name}/anonymous`, cpuGoal);

export async function authenticated(ctx: BenchContext): Promise<Table> {
  // 1000 images: with 300 a push phase lasted under a second and run-to-run noise (±30%) swamped a 10% question.
  const count = ctx.quick ? 40 : 1000;
  const concurrency = 32;
  const auth = makeHtpasswd(ctx.workDir);
  const notes: string[] = [];
  const planned: PlannedServer[] = [];
  const credentials = new Map<string, Credentials>();
  const variants: PerchVariant[] = [];
  try {
    for (const spec of ctx.servers.filter((s) => s.supportsAuth)) {
      const basic: Credentials = { basic: auth };
      const problem = await authWorks(ctx, spec, { auth }, basic, spec.kind);
      if (problem) {
        notes.push(`${spec.label} with htpasswd auth is left out: ${problem}`);
      } else {
        planned.push(spec, { ...spec, key: `${spec.kind}+auth`, start: (o) => spec.start({ ...o, auth }) });
        credentials.set(`${spec.kind}+auth`, basic);
      }
      if (spec.kind !== 'ours') continue;
      // perch's other login methods: the peer (distribution) has neither.
      for (const [what, make] of [
        ['OpenID bearer token', oidcVariant],
        ['LDAP basic', () => ldapVariant(ctx.workDir)],
      ] as const) {
        let variant: PerchVariant;
        try {
          variant = await make();
        } catch (err) {
          notes.push(`${spec.label} with ${what} is left out: ${brief(err)}`);
          continue;
        }
        variants.push(variant);
        const key = `${spec.kind}${variant.suffix}`;
        const problem = await authWorks(ctx, spec, { extraConfig: variant.extraConfig }, variant.credentials, key.replace(/\W/g, '_'));
        if (problem) {
          notes.push(`${spec.label} with ${variant.what} is left out: ${problem}`);
          continue;
        }
        if (!planned.includes(spec)) planned.push(spec);
        planned.push({ ...spec, key, start: (o) => spec.start({ ...o, extraConfig: variant.extraConfig }) });
        credentials.set(key, variant.credentials);
      }
    }
    const creds = (key: string) => credentials.get(key);
    const results = await runAlternating(ctx, {
      id: 'auth',
      servers: planned,
      prepare: (run) => smallImages(`auth-run${run}`, count, 'bench-auth'),
      warmup: (server, key) => warmUp(server.url, () => smallImages('auth-warm', ctx.quick ? 8 : 32, 'bench-auth'), creds(key)),
      measure: (server, images, _run, key) => measureSmallImages(server, images, concurrency, ctx.log, creds(key)),
    });
    const perchOnly = (suffix: string, name: string): Row[] =>
      results.has(`ours${suffix}`)
        ? [
            variantRatioRow(results, 'pushImgs', suffix, '', `push images/s, ${name}/anonymous`, ratioGoal),
            variantRatioRow(results, 'pullImgs', suffix, '', `pull images/s, ${name}/anonymous`, ratioGoal),
            cpuRow(results, suffix, name),
          ]
        : [];
    const perchOnlyRaw = (suffix: string, name: string): Row[] =>
      results.has(`ours${suffix}`)
        ? [
            variantRow(results, 'pushImgs', suffix, `push, ${name}`, 'images/s'),
            variantRow(results, 'pullImgs', suffix, `pull, ${name}`, 'images/s'),
            variantRow(results, 'errors', suffix, `errors, ${name}`, 'count'),
          ]
        : [];
    if (variants.some((v) => results.has(`ours${v.suffix}`))) {
      notes.push(
        'ours only: OIDC = an oidc-provider access token (RS256 JWT) as Bearer on every request, policy by its groups claim; ' +
          'LDAP = Basic on every request, checked against slapd on loopback through perch\'s login cache (cacheTTL 1m, the default)',
      );
    }
    return {
      title: `authenticated vs anonymous: ${count} small images, concurrency ${concurrency}, htpasswd basic (bcrypt); ours also OIDC bearer and LDAP basic`,
      rows: [
        variantRatioRow(results, 'pushImgs', '+auth', '', 'push images/s, authenticated/anonymous', ratioGoal),
        variantRatioRow(results, 'pullImgs', '+auth', '', 'pull images/s, authenticated/anonymous', ratioGoal),
        cpuRow(results, '+auth', 'authenticated'),
        ...perchOnly('+oidc', 'OIDC bearer'),
        ...perchOnly('+ldap', 'LDAP basic'),
        variantRow(results, 'pushImgs', '', 'push, anonymous', 'images/s'),
        variantRow(results, 'pushImgs', '+auth', 'push, authenticated', 'images/s'),
        variantRow(results, 'pullImgs', '', 'pull, anonymous', 'images/s'),
        variantRow(results, 'pullImgs', '+auth', 'pull, authenticated', 'images/s'),
        variantRow(results, 'errors', '+auth', 'errors, authenticated', 'count'),
        ...perchOnlyRaw('+oidc', 'OIDC bearer'),
        ...perchOnlyRaw('+ldap', 'LDAP basic'),
      ],
      notes,
    };
  } finally {
    rmSync(auth.path, { force: true });
    for (const variant of variants) await variant.stop().catch((err: Error) => ctx.log(`  stopping the ${variant.what} set-up: ${err.message}`));
  }
}
