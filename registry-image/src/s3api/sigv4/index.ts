/**
 * AWS Signature Version 4 verification for an S3-compatible API: the request
 * (verify-request.ts), then its body (payload-verifier.ts). Errors are S3AuthError with S3's
 * code and status (errors.ts). Nothing here knows about the registry.
 */
export { S3AuthError, S3_AUTH_ERRORS, type S3AuthErrorCode } from './errors';
export { SigV4Verifier, MAX_CLOCK_SKEW_MS, type SecretLookup, type SigV4VerifierOptions, type VerifiedRequest, type IncomingRequestLike } from './verify-request';
export { createPayloadVerifier, type PayloadVerifierOptions } from './payload-verifier';
export { SigningKeyCache } from './signing-key';
export type { PayloadMode } from './payload-mode';
