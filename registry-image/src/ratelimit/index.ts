/** `http.ratelimit`: per-client token buckets, zot's limits and meaning (limiter.ts). */
export { RateLimiter, UNLIMITED_ROUTES, type RateLimitConfig, type RateLimiterOptions } from './limiter';
export { TokenBucket } from './token-bucket';
