/**
 * Runs one boto3 call through test/s3api/s3-ops.py (the venv scripts/install-tools.sh s3clients
 * makes) and reads back its one JSON line: what the call returned, or {error, status}. Shared by
 * the S3 API suites so each asks boto3 the same way.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../helpers/run-command';

const TOOLS = process.env.PERCH_TOOLS ?? join(process.env.HOME ?? '/root', '.cache/perch-tools');
export const BOTO3_PYTHON = join(TOOLS, 's3-venv/bin/python');
export const BOTO3_OPS = join(__dirname, 's3-ops.py');
export const haveBoto3 = existsSync(BOTO3_PYTHON);

export interface Boto3Result {
  code: number | null;
  json: Record<string, any>;
  stderr: string;
}

/** `op` with its fields against `endpoint`, signed with `key` (no shared AWS config or credentials files). */
export async function boto3Call(endpoint: string, key: { access: string; secret: string }, op: string, args: Record<string, unknown> = {}): Promise<Boto3Result> {
  const r = await runCommand(BOTO3_PYTHON, [BOTO3_OPS, JSON.stringify({ op, endpoint, access: key.access, secret: key.secret, ...args })], {
    allowFailure: true,
    timeoutMs: 60_000,
    env: { ...process.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
  });
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  } catch {
    /* stderr says why */
  }
  return { code: r.code, json, stderr: r.stderr };
}
