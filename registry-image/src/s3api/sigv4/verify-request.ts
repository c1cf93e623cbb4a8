/**
 * Verifies the SigV4 signature of an incoming S3 request, header or presigned form, and says
 * how its body must be checked (payload-verifier.ts does that while the body streams).
 *
 * What is checked, in this order (S3's error code in brackets):
 *   1. the form: Authorization header, presigned query, both (refused) or neither (anonymous);
 *      its syntax [AuthorizationHeaderMalformed / AuthorizationQueryParametersError];
 *   2. the scope: date equals the day of X-Amz-Date, region and service are ours
 *      [AuthorizationHeaderMalformed / AuthorizationQueryParametersError];
 *   3. time: header form within 15 minutes of our clock [RequestTimeTooSkewed]; presigned form
 *      not expired and not from the future [AccessDenied];
 *   4. x-amz-content-sha256 present and known (header form) [MissingSecurityHeader,
 *      InvalidArgument];
 *   5. `host` signed, every x-amz-* header present signed [AuthorizationHeaderMalformed,
 *      AccessDenied];
 *   6. the access key known [InvalidAccessKeyId];
 *   7. the signature, compared in constant time [SignatureDoesNotMatch].
 *
 * The signing key stays inside a closure of the result (`signChunk`), so logging or
 * serialising a VerifiedRequest shows neither it nor the secret.
 */
import { redactSignature, S3AuthError } from './errors';
import { canonicalRequest, credentialScope, headerValues, stringToSign, type HeaderValues } from './canonical-request';
import {
  isPresignedQuery,
  parseAuthorizationHeader,
  parsePresignedQuery,
  type CredentialScope,
  type ParsedCredential,
} from './credential-forms';
import { payloadMode, UNSIGNED_PAYLOAD, type PayloadMode } from './payload-mode';
import { hmac, SigningKeyCache, signaturesEqual } from './signing-key';
import { parseQuery } from './uri-encoding';

/** S3's allowed difference between the client's X-Amz-Date and the server's clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** accessKey -> its secret, or undefined for a key nobody has. */
export type SecretLookup = (accessKey: string) => string | undefined | Promise<string | undefined>;

export interface SigV4VerifierOptions {
  lookupSecret: SecretLookup;
  /** The region clients must sign for; default us-east-1. */
  region?: string;
  /** Default "s3". */
  service?: string;
  /** Milliseconds since the epoch; tests move the clock. */
  now?: () => number;
  maxClockSkewMs?: number;
  keyCache?: SigningKeyCache;
}

/** The parts of a Node IncomingMessage the verifier reads. */
export interface IncomingRequestLike {
  method?: string | undefined;
  /** The request target as received: path and query, still percent-encoded. */
  url?: string | undefined;
  /** name, value, name, value, ... as received. */
  rawHeaders: readonly string[];
}

/** What signed a chunk or a trailer: the request's date and scope, and its signing key (hidden). */
export interface ChunkSigner {
  amzDate: string;
  scope: string;
  /** The request's own signature, the first link of the chunk chain. */
  seedSignature: string;
  /** Hex HMAC-SHA256 of a string to sign with the request's signing key. */
  sign(stringToSign: string): string;
}

export type VerifiedRequest =
  | {
      auth: 'header' | 'presigned';
      accessKey: string;
      scope: CredentialScope;
      payload: PayloadMode;
      headers: HeaderValues;
      signer: ChunkSigner;
    }
  | { auth: 'anonymous'; payload: PayloadMode; headers: HeaderValues };

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** `20130524T000000Z` -> epoch milliseconds, or NaN. */
export function parseAmzDate(text: string): number {
  const m = AMZ_DATE.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls 20130231 over to March; such a date is not a date.
  return back.getUTCMonth() === mo - 1 && back.getUTCDate() === d ? ms : NaN;
}

function single(headers: HeaderValues, name: string): string | undefined {
  const values = headers.get(name);
  return values === undefined ? undefined : values.join(',');
}

export class SigV4Verifier {
  private readonly region: string;
  private readonly service: string;
  private readonly now: () => number;
  private readonly maxSkewMs: number;
  private readonly keys: SigningKeyCache;

  constructor(private readonly options: SigV4VerifierOptions) {
    this.region = options.region ?? 'us-east-1';
    this.service = options.service ?? 's3';
    this.now = options.now ?? Date.now;
    this.maxSkewMs = options.maxClockSkewMs ?? MAX_CLOCK_SKEW_MS;
    this.keys = options.keyCache ?? new SigningKeyCache();
  }

  /** Throws S3AuthError; resolves with who signed and how the body is to be verified. */
  async verify(request: IncomingRequestLike): Promise<VerifiedRequest> {
    const method = (request.method ?? 'GET').toUpperCase();
    const target = request.url ?? '/';
    const q = target.indexOf('?');
    const rawPath = q < 0 ? target : target.slice(0, q);
    const query = parseQuery(q < 0 ? '' : target.slice(q + 1));
    const headers = headerValues(request.rawHeaders);
    const authorization = single(headers, 'authorization');
    const presigned = isPresignedQuery(query);

    if (authorization !== undefined && presigned) {
      throw new S3AuthError('InvalidArgument', 'only one auth mechanism allowed: the Authorization header or X-Amz-Algorithm in the query, not both');
    }
    if (authorization === undefined && !presigned) {
      const sent = single(headers, 'x-amz-content-sha256');
      return { auth: 'anonymous', payload: sent === undefined ? { kind: 'unsigned' } : this.anonymousPayload(sent), headers };
    }

    let credential: ParsedCredential;
    let amzDate: string;
    let hashedPayload: string;
    let form: 'header' | 'presigned';
    let malformed: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError';
    if (authorization !== undefined) {
      form = 'header';
      malformed = 'AuthorizationHeaderMalformed';
      credential = parseAuthorizationHeader(authorization);
      const date = single(headers, 'x-amz-date');
      if (date === undefined) throw new S3AuthError('MissingSecurityHeader', 'x-amz-date is required with SigV4 (a Date header alone is not accepted here)');
      amzDate = date;
      const sent = single(headers, 'x-amz-content-sha256');
      if (sent === undefined) throw new S3AuthError('MissingSecurityHeader', 'x-amz-content-sha256 is required with SigV4 on S3');
      hashedPayload = sent;
    } else {
      form = 'presigned';
      malformed = 'AuthorizationQueryParametersError';
      const parsed = parsePresignedQuery(query);
      credential = parsed;
      amzDate = parsed.amzDate;
      // A presigned URL signs no body: UNSIGNED-PAYLOAD, unless the URL itself names a hash.
      hashedPayload = query.find((p) => p.decodedName === 'X-Amz-Content-Sha256')?.decodedValue ?? UNSIGNED_PAYLOAD;
    }
    const who = `access key ${credential.accessKey}`;

    const signedAt = parseAmzDate(amzDate);
    if (Number.isNaN(signedAt)) throw new S3AuthError(malformed, `X-Amz-Date "${amzDate.slice(0, 30)}" is not yyyymmddThhmmssZ (${who})`);
    const { scope } = credential;
    if (scope.date !== amzDate.slice(0, 8)) {
      throw new S3AuthError(malformed, `invalid credential date "${scope.date}": it is not the day of X-Amz-Date ${amzDate} (${who})`);
    }
    if (scope.region !== this.region) {
      throw new S3AuthError(malformed, `the region "${scope.region.slice(0, 40)}" is wrong; expecting "${this.region}" (${who})`);
    }
    if (scope.service !== this.service) {
      throw new S3AuthError(malformed, `the service "${scope.service.slice(0, 40)}" is wrong; expecting "${this.service}" (${who})`);
    }

    const now = this.now();
    if (form === 'header') {
      if (Math.abs(now - signedAt) > this.maxSkewMs) {
        throw new S3AuthError(
          'RequestTimeTooSkewed',
          `the difference between the request time ${amzDate} and the server time ${new Date(now).toISOString()} is too large (more than ${this.maxSkewMs / 60000} minutes; ${who})`,
        );
      }
    } else {
      const { expiresSeconds } = credential as ReturnType<typeof parsePresignedQuery>;
      if (now > signedAt + expiresSeconds * 1000) {
        throw new S3AuthError('AccessDenied', `request has expired: signed ${amzDate} for ${expiresSeconds} s (${who})`);
      }
      if (signedAt - now > this.maxSkewMs) {
        throw new S3AuthError('AccessDenied', `request is not valid yet: signed for ${amzDate} (${who})`);
      }
    }

    const payload = payloadMode(hashedPayload);

    const signed = new Set(credential.signedHeaders);
    if (!signed.has('host')) throw new S3AuthError(malformed, `SignedHeaders must include host (${who})`);
    const sorted = [...credential.signedHeaders].sort();
    if (sorted.some((n, i) => n !== credential.signedHeaders[i])) {
      throw new S3AuthError(malformed, `SignedHeaders "${credential.signedHeaders.join(';')}" is not sorted (${who})`);
    }
    const unsigned = [...headers.keys()].filter((name) => name.startsWith('x-amz-') && !signed.has(name));
    if (unsigned.length > 0) {
      throw new S3AuthError('AccessDenied', `there were headers present in the request which were not signed: ${unsigned.join(', ')} (${who})`);
    }

    const secret = await this.options.lookupSecret(credential.accessKey);
    if (secret === undefined) throw new S3AuthError('InvalidAccessKeyId', `the AWS access key id ${credential.accessKey} does not exist in our records`);

    const scopeText = credentialScope(scope.date, scope.region, scope.service);
    const canonical = canonicalRequest({
      method,
      rawPath,
      query,
      omitQueryParameter: form === 'presigned' ? 'X-Amz-Signature' : undefined,
      headers,
      signedHeaders: credential.signedHeaders,
      hashedPayload,
    });
    const key = this.keys.get(secret, scope.date, scope.region, scope.service);
    const toSign = stringToSign(amzDate, scopeText, canonical);
    const expected = hmac(key, toSign).toString('hex');
    if (!signaturesEqual(expected, credential.signature)) {
      throw new S3AuthError(
        'SignatureDoesNotMatch',
        `the request signature we calculated does not match the signature you provided (${who}, scope ${scopeText}, signed headers ${credential.signedHeaders.join(';')}, got ${redactSignature(credential.signature)})`,
        { canonicalRequest: canonical, stringToSign: toSign },
      );
    }

    return {
      auth: form,
      accessKey: credential.accessKey,
      scope,
      payload,
      headers,
      signer: {
        amzDate,
        scope: scopeText,
        seedSignature: credential.signature,
        sign: (text) => hmac(key, text).toString('hex'),
      },
    };
  }

  private anonymousPayload(sent: string): PayloadMode {
    const mode = payloadMode(sent);
    if (mode.kind === 'streaming-signed') throw new S3AuthError('AccessDenied', 'a signed aws-chunked body needs a signed request');
    return mode;
  }
}
