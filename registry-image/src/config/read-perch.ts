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
  return perch;
}
