/**
 * The `perch` section: everything perch has that zot has not (DESIGN.md "Config"). A config
 * with it is perch-only, since zot refuses keys it does not know.
 */
import { resolve } from 'node:path';
import { repositoryGlobProblem } from '../oci/repository-glob';
import { DEFAULTS } from './defaults';
import type { Section } from './section';
import type { PerchConfig } from './types';

type Perch = PerchConfig['perch'];

const SECOND_MS = 1000;

export function readPerch(s: Section, cwd: string): Perch {
  const auth = s.section('auth');
  const tokenTTLMs = auth.duration('tokenTTL', { min: SECOND_MS }) ?? DEFAULTS.tokenTTLSeconds * SECOND_MS;
  const quota = s.section('quota');
  const tokenKeyFile = auth.string('tokenKeyFile');
  const perch: Perch = {
    auth: {
      challenge: auth.oneOf('challenge', ['basic', 'bearer'], DEFAULTS.challenge),
      tokenKeyFile: resolve(cwd, tokenKeyFile ?? DEFAULTS.tokenKeyFile),
      tokenKeyFileSet: tokenKeyFile !== undefined,
      // JWT lifetimes are whole seconds (exp/iat are NumericDate).
      tokenTTLSeconds: Math.floor(tokenTTLMs / SECOND_MS),
    },
    uploadTTLMs: s.duration('uploadTTL', { min: SECOND_MS }) ?? DEFAULTS.uploadTTLMs,
    quota: {
      repositoryBytes: quota.byteSize('repositoryBytes', 0),
      totalBytes: quota.byteSize('totalBytes', 0),
    },
  };
  const trust = s.section('trust');
  if (trust.exists) {
    perch.trust = { cosignKeys: (trust.strings('cosignKeys') ?? []).map((path) => resolve(cwd, path)), requireSignature: trust.strings('requireSignature') ?? [] };
    for (const pattern of perch.trust.requireSignature) {
      const problem = repositoryGlobProblem(pattern);
      if (problem) trust.problem('requireSignature', `${JSON.stringify(pattern)} ${problem}`);
    }
  }
  const selfSigned = s.section('tls').section('selfSigned');
  if (selfSigned.exists) {
    const hosts = selfSigned.strings('hosts') ?? [...DEFAULTS.selfSignedHosts];
    if (hosts.length === 0) selfSigned.problem('hosts', 'is empty; list the names and addresses clients use, e.g. ["localhost", "127.0.0.1"]');
    perch.tlsSelfSigned = { hosts };
  }
  const s3api = s.section('s3api');
  if (s3api.exists) perch.s3api = readS3Api(s3api, cwd);
  return perch;
}

/** S3 access key ids: what AWS issues (20 capitals and digits) and what other servers allow. */
const ACCESS_KEY = /^[A-Za-z0-9_.-]{3,128}$/;
const DOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const REGION = /^[a-z0-9-]{1,64}$/;

/** perch.s3api (docs/s3api.md). Secret files are read when the listener starts, not here. */
function readS3Api(s: Section, cwd: string): NonNullable<Perch['s3api']> {
  const region = s.string('region', DEFAULTS.s3apiRegion);
  if (!REGION.test(region)) s.problem('region', `${JSON.stringify(region)} is not a region name; use lowercase letters, digits and "-", such as "us-east-1"`);
  const out: NonNullable<Perch['s3api']> = {
    enable: s.bool('enable', false),
    port: s.integer('port', DEFAULTS.s3apiPort, { min: 0, max: 65535 }),
    region,
    credentials: [],
  };
  const address = s.string('address');
  if (address !== undefined) {
    if (address.trim() === '') s.problem('address', 'is empty; leave it out to listen where http.address does, or give one such as "0.0.0.0"');
    out.address = address;
  }
  const domain = s.string('domain');
  if (domain !== undefined) {
    const d = domain.toLowerCase().replace(/\.$/, '');
    if (!DOMAIN.test(d)) s.problem('domain', `${JSON.stringify(domain)} is not a DNS name; give the base name buckets are addressed under, such as "s3.example.com" for https://<bucket>.s3.example.com`);
    out.domain = d;
  }
  const seen = new Set<string>();
  for (const c of s.list('credentials')) {
    const accessKey = c.string('accessKey');
    const secretKeyFile = c.string('secretKeyFile');
    const user = c.string('user');
    if (accessKey === undefined) c.problem('accessKey', 'is missing; give the access key id clients sign with, such as "PERCHEXAMPLEKEY01"');
    else if (!ACCESS_KEY.test(accessKey)) c.problem('accessKey', 'must be 3 to 128 letters, digits, "_", "." or "-"');
    else if (seen.has(accessKey)) c.problem('accessKey', `${JSON.stringify(accessKey)} is listed twice; each access key maps to one user`);
    if (secretKeyFile === undefined || secretKeyFile.trim() === '') c.problem('secretKeyFile', 'is missing; give a file that holds the secret key (in Kubernetes a mounted Secret)');
    if (user === undefined || user.trim() === '') c.problem('user', 'is missing; give the registry user this key acts as (http.accessControl decides what it may do)');
    if (accessKey === undefined || secretKeyFile === undefined || user === undefined) continue;
    seen.add(accessKey);
    out.credentials.push({ accessKey, secretKeyFile: resolve(cwd, secretKeyFile), user });
  }
  if (out.enable && out.credentials.length === 0) {
    s.warn('credentials', 'is empty: only anonymous S3 requests can be served, as http.accessControl anonymousPolicy allows');
  }
  return out;
}
