/**
 * The trust extension's routes (docs/trust.md), added by perch serve in front of the route table:
 *
 *   POST   /v2/_zot/ext/cosign[?name=]        zot's: the body is a PEM public key. 200; 400 not a
 *                                             key; 413 over 8 MiB. `name` is perch's addition
 *                                             (zot names keys by digest only).
 *   GET    /v2/_zot/ext/cosign                perch's: the trusted keys (config and uploaded).
 *   DELETE /v2/_zot/ext/cosign?id=sha256:...   perch's: forget an uploaded key.
 *   POST   /v2/_zot/ext/notation?truststoreType=ca|signingAuthority|tsa[&truststoreName=]
 *                                             zot's: the body is a certificate (PEM or DER). Kept and
 *                                             listed; notation signatures are not verified.
 *   GET    /v2/_zot/ext/trust/<name>/manifests/<reference>
 *                                             perch's: report.ts's TrustReport (zot shows the same
 *                                             facts through its GraphQL search, which perch lacks).
 *   GET    /v2/_zot/ext/trust/<name>/predicates/<digest>
 *                                             perch's: an attestation's predicate (the SBOM itself).
 *
 * Who may change keys is zot's rule (AuthzOnlyAdminsMiddleware): with no login configured,
 * anyone; otherwise an admin of http.accessControl (adminPolicy users or groups). zot, with a
 * login and no accessControl, refuses everyone (nobody is admin); perch lets any signed-in user
 * in there, as it lets them do everything else. Reading reports needs read on the repository.
 */
import type { Identity } from '../auth/types';
import type { PerchConfig } from '../config/types';
import { loginConfigured } from '../config/read-auth';
import type { Handler, RequestContext } from '../http/context';
import { RegistryError } from '../http/errors';
import { readBody } from '../http/request-body';
import { sendJson } from '../http/respond';
import type { Route } from '../http/routes';
import { digestParam, referenceParam, repositoryParam } from '../handlers/validate';
import { createHash } from 'node:crypto';
import { InvalidKey, parseCertificates, type TrustKeys } from './key-store';
import { readPredicate, type TrustReporter } from './report';

/** zot: MaxImageTrustBodySize. */
export const MAX_TRUST_BODY = 8 * 1024 * 1024;
export const TRUSTSTORE_TYPES = ['ca', 'signingAuthority', 'tsa'] as const;
const NAME = '(?<name>.+)';

/** zot's AuthzOnlyAdminsMiddleware, with perch's reading of "login but no accessControl". */
export function mayManageKeys(config: PerchConfig, identity: Identity): boolean {
  if (!loginConfigured(config.http.auth)) return true;
  if (identity.username === null) return false;
  const admin = config.http.accessControl?.adminPolicy;
  if (!config.http.accessControl || !admin) return true;
  return admin.users.includes(identity.username) || identity.groups.some((g) => admin.groups.includes(g));
}

function requireAdmin(ctx: RequestContext): void {
  if (mayManageKeys(ctx.parts.config, ctx.identity)) return;
  ctx.req.resume();
  if (ctx.identity.username === null) throw new RegistryError('UNAUTHORIZED', 'uploading trust keys needs an admin: sign in (e.g. curl -u admin:password)');
  throw new RegistryError('DENIED', `${ctx.identity.username} is not an admin: only users or groups in http.accessControl.adminPolicy may change the trusted keys`);
}

async function readTrustBody(ctx: RequestContext): Promise<Buffer> {
  try {
    return await readBody(ctx.req, MAX_TRUST_BODY);
  } catch (err) {
    if (err instanceof RegistryError && err.status === 413) throw new RegistryError('MANIFEST_TOO_BIG', `a key or certificate is at most ${MAX_TRUST_BODY} bytes`);
    throw err;
  }
}

function badRequest(message: string): RegistryError {
  return new RegistryError('REQUEST_MALFORMED', message);
}

function keyView(k: ReturnType<TrustKeys['cosignKeys']>[number]) {
  return { id: k.id, name: k.name, source: k.source, algorithm: k.algorithm, ...(k.added ? { added: new Date(k.added).toISOString(), addedBy: k.addedBy ?? null } : {}), pem: k.pem };
}

export interface TrustRouteDeps {
  config: PerchConfig;
  keys: TrustKeys;
  reporter: TrustReporter;
  /** Why uploads cannot be kept (object storage), or undefined. */
  uploadsOff?: string;
}

export function trustRoutes({ config, keys, reporter, uploadsOff }: TrustRouteDeps): Route[] {
  const trust = config.extensions.trust!;
  const refuseUploadsOff = (ctx: RequestContext) => {
    if (!uploadsOff) return;
    ctx.req.resume();
    throw new RegistryError('UNSUPPORTED', uploadsOff);
  };

  const uploadKey: Handler = async (ctx) => {
    requireAdmin(ctx);
    refuseUploadsOff(ctx);
    const body = await readTrustBody(ctx);
    const name = ctx.query.get('name') ?? undefined;
    if (name !== undefined && !/^[\w.@:+-]{1,100}$/.test(name)) throw badRequest('"name" may hold letters, digits and . _ - @ : + (at most 100)');
    try {
      const key = await keys.addCosignKey(body.toString('utf8'), name, ctx.identity.username);
      ctx.parts.log.info('trust: cosign key added', { id: key.id, name: key.name, user: ctx.identity.username });
      sendJson(ctx.res, 200, { id: key.id, name: key.name, algorithm: key.algorithm }, { 'Cache-Control': 'no-store' });
    } catch (err) {
      if (err instanceof InvalidKey) throw badRequest(`the body is ${err.message}`);
      throw err;
    }
  };
  const listKeys: Handler = async (ctx) => {
    sendJson(ctx.res, 200, { cosignKeys: keys.cosignKeys().map(keyView) }, { 'Cache-Control': 'no-store' });
  };
  const removeKey: Handler = async (ctx) => {
    requireAdmin(ctx);
    refuseUploadsOff(ctx);
    const id = ctx.query.get('id');
    if (!id) throw badRequest('name the key to remove: DELETE /v2/_zot/ext/cosign?id=sha256:...');
    if (!(await keys.removeCosignKey(id))) throw new RegistryError('NOT_FOUND', `no uploaded cosign key has id ${JSON.stringify(id.slice(0, 80))} (keys from perch.trust.cosignKeys are removed from the config)`);
    ctx.parts.log.info('trust: cosign key removed', { id, user: ctx.identity.username });
    sendJson(ctx.res, 200, { removed: id }, { 'Cache-Control': 'no-store' });
  };
  const uploadCertificate: Handler = async (ctx) => {
    requireAdmin(ctx);
    refuseUploadsOff(ctx);
    const type = ctx.query.get('truststoreType') ?? 'ca';
    if (!(TRUSTSTORE_TYPES as readonly string[]).includes(type)) {
      ctx.req.resume();
      throw badRequest(`truststoreType ${JSON.stringify(type.slice(0, 40))} is not one of ${TRUSTSTORE_TYPES.join(', ')}`);
    }
    const storeName = ctx.query.get('truststoreName') ?? 'default';
    if (storeName.includes('..') || !/^[a-zA-Z0-9_.-]+$/.test(storeName)) {
      ctx.req.resume();
      throw badRequest('truststoreName may hold letters, digits and . _ - only');
    }
    const body = await readTrustBody(ctx);
    let subjects: string[];
    try {
      subjects = parseCertificates(body);
    } catch (err) {
      throw badRequest(`the body is ${(err as Error).message}`);
    }
    const id = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    await keys.addCertificate({ id, truststoreType: type, truststoreName: storeName, pem: body.toString('latin1'), addedBy: ctx.identity.username });
    ctx.parts.log.info('trust: notation certificate added', { id, truststoreType: type, truststoreName: storeName, user: ctx.identity.username });
    sendJson(ctx.res, 200, { id, truststoreType: type, truststoreName: storeName, subjects }, { 'Cache-Control': 'no-store' });
  };
  const report: Handler = async (ctx) => {
    const name = repositoryParam(ctx.params.name);
    const ref = referenceParam(ctx.params.reference);
    const digest = ref.digest ?? (await ctx.parts.store.resolveTag(name, ref.tag!));
    if (!digest || !(await ctx.parts.store.getManifest(name, digest))) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${ctx.params.reference} is not in ${name}`);
    sendJson(ctx.res, 200, await reporter.report(name, digest), { 'Cache-Control': 'no-store' });
  };
  const predicate: Handler = async (ctx) => {
    const name = repositoryParam(ctx.params.name);
    const digest = digestParam(ctx.params.digest);
    const found = await readPredicate(ctx.parts.store, name, digest);
    if (!found) throw new RegistryError('BLOB_UNKNOWN', `${digest} is not an attestation (a Sigstore bundle or DSSE envelope) in ${name}`);
    sendJson(ctx.res, 200, found.predicate, { 'X-Predicate-Type': found.predicateType });
  };

  const routes: Route[] = [
    { name: 'trust-report', pattern: new RegExp(`^/v2/_zot/ext/trust/${NAME}/manifests/(?<reference>[^/]+)$`), methods: { GET: { handler: report, access: 'read' } } },
    { name: 'trust-predicate', pattern: new RegExp(`^/v2/_zot/ext/trust/${NAME}/predicates/(?<digest>[^/]+)$`), methods: { GET: { handler: predicate, access: 'read' } } },
  ];
  if (trust.cosign) {
    routes.push({
      name: 'trust-cosign',
      pattern: /^\/v2\/_zot\/ext\/cosign$/,
      methods: { POST: { handler: uploadKey, access: 'authenticated' }, GET: { handler: listKeys, access: 'authenticated' }, DELETE: { handler: removeKey, access: 'authenticated' } },
    });
  }
  if (trust.notation) {
    routes.push({ name: 'trust-notation', pattern: /^\/v2\/_zot\/ext\/notation$/, methods: { POST: { handler: uploadCertificate, access: 'authenticated' } } });
  }
  return routes;
}
