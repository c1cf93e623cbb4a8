/**
 * The two places a SigV4 credential comes in, parsed into one shape:
 *
 * - the Authorization header (S3 API Reference, "Authenticating Requests: Using the
 *   Authorization Header"):
 *     AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request,
 *       SignedHeaders=host;range;x-amz-date, Signature=fe5f80f7...
 *   (clients separate the three with ", " or ","; the order is not fixed);
 * - the presigned query ("Authenticating Requests: Using Query Parameters"): X-Amz-Algorithm,
 *   X-Amz-Credential, X-Amz-Date, X-Amz-Expires (1 to 604800 seconds, seven days),
 *   X-Amz-SignedHeaders and X-Amz-Signature.
 *
 * Only the syntax is checked here; scope, time and signature are verify-request.ts's.
 */
import { S3AuthError } from './errors';
import type { QueryParameter } from './uri-encoding';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** S3's limit on X-Amz-Expires: seven days. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 3600;

export interface CredentialScope {
  /** yyyymmdd */
  date: string;
  region: string;
  service: string;
}

export interface ParsedCredential {
  accessKey: string;
  scope: CredentialScope;
  /** Lower-case header names in the order given (SigV4 requires them sorted). */
  signedHeaders: string[];
  /** Lower-case hex. */
  signature: string;
}

export interface ParsedPresigned extends ParsedCredential {
  /** X-Amz-Date, yyyymmddThhmmssZ. */
  amzDate: string;
  expiresSeconds: number;
}

const SIGNATURE = /^[0-9a-fA-F]{64}$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

type ErrorCode = 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError';

/** `AKID/yyyymmdd/region/service/aws4_request`; the key id is what comes before the last four parts. */
function parseCredential(text: string, code: ErrorCode): { accessKey: string; scope: CredentialScope } {
  const parts = text.split('/');
  if (parts.length < 5) throw new S3AuthError(code, `the Credential "${text}" is not ACCESSKEY/yyyymmdd/region/service/aws4_request`);
  const [date, region, service, terminal] = parts.slice(-4) as [string, string, string, string];
  const accessKey = parts.slice(0, -4).join('/');
  if (accessKey === '') throw new S3AuthError(code, 'the Credential has no access key id');
  if (!/^\d{8}$/.test(date)) throw new S3AuthError(code, `the Credential date "${date}" is not yyyymmdd`);
  if (terminal !== 'aws4_request') throw new S3AuthError(code, `the Credential ends in "${terminal}", not aws4_request`);
  return { accessKey, scope: { date, region, service } };
}

function parseSignedHeaders(text: string, code: ErrorCode): string[] {
  const names = text.split(';');
  for (const name of names) {
    if (!HEADER_NAME.test(name)) throw new S3AuthError(code, `SignedHeaders "${text}" holds "${name}", which is not a lower-case header name`);
  }
  return names;
}

function parseSignature(text: string, code: ErrorCode): string {
  if (!SIGNATURE.test(text)) throw new S3AuthError(code, 'the Signature is not 64 hex digits');
  return text.toLowerCase();
}

export function parseAuthorizationHeader(value: string): ParsedCredential {
  const code = 'AuthorizationHeaderMalformed';
  const space = value.indexOf(' ');
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ALGORITHM) {
    // SigV2 ("AWS AKID:sig") and SigV4a ("AWS4-ECDSA-P256-SHA256") are S3's too, but not ours.
    throw new S3AuthError('InvalidRequest', `the authorization mechanism "${algorithm.slice(0, 40)}" is not supported; use ${ALGORITHM}`);
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) throw new S3AuthError(code, `the Authorization header has "${item.slice(0, 40)}" where Name=value belongs`);
    const name = item.slice(0, eq);
    if (fields.has(name)) throw new S3AuthError(code, `the Authorization header has ${name} twice`);
    fields.set(name, item.slice(eq + 1));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((n) => !fields.has(n));
    throw new S3AuthError(code, `the Authorization header lacks ${missing.join(', ')}`);
  }
  return {
    ...parseCredential(credential, code),
    signedHeaders: parseSignedHeaders(signedHeaders, code),
    signature: parseSignature(signature, code),
  };
}

/** True when the query carries a presigned credential (X-Amz-Algorithm, any case of value). */
export function isPresignedQuery(query: readonly QueryParameter[]): boolean {
  return query.some((p) => p.decodedName === 'X-Amz-Algorithm');
}

export function parsePresignedQuery(query: readonly QueryParameter[]): ParsedPresigned {
  const code = 'AuthorizationQueryParametersError';
  const get = (name: string): string => {
    const found = query.filter((p) => p.decodedName === name);
    if (found.length === 0) throw new S3AuthError(code, `the presigned query lacks ${name}`);
    if (found.length > 1) throw new S3AuthError(code, `the presigned query has ${name} ${found.length} times`);
    return found[0]!.decodedValue;
  };
  const algorithm = get('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) throw new S3AuthError(code, `X-Amz-Algorithm "${algorithm.slice(0, 40)}" is not supported; use ${ALGORITHM}`);
  const amzDate = get('X-Amz-Date');
  const expiresText = get('X-Amz-Expires');
  if (!/^\d{1,10}$/.test(expiresText)) throw new S3AuthError(code, `X-Amz-Expires "${expiresText.slice(0, 20)}" is not a number of seconds`);
  const expiresSeconds = Number(expiresText);
  if (expiresSeconds < 1) throw new S3AuthError(code, 'X-Amz-Expires must be at least 1 second');
  if (expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw new S3AuthError(code, `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}`);
  }
  return {
    ...parseCredential(get('X-Amz-Credential'), code),
    signedHeaders: parseSignedHeaders(get('X-Amz-SignedHeaders'), code),
    signature: parseSignature(get('X-Amz-Signature'), code),
    amzDate,
    expiresSeconds,
  };
}
