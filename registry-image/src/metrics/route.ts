/**
 * GET `extensions.metrics.prometheus.path` (default /metrics): the exposition text.
 *
 * Who may read it follows `http.accessControl.metrics` (zot's key):
 * - no login configured: anyone, as everything else then is;
 * - `metrics.anonymousPolicy: ["read"]`: anyone, without credentials (a wrong one is still 401);
 * - login configured, `metrics.users` absent: any caller who logs in;
 * - `metrics.users` listed: only those users (an empty list: nobody, as in zot).
 * Anonymous callers get 401 with a Basic challenge (Prometheus scrapes with `basic_auth`; a
 * Bearer token from /v2/token works too); a logged-in user who is not listed gets 403.
 */
import type { PerchConfig } from '../config/types';
import { basicChallenge } from '../auth/challenge';
import { loginConfigured } from '../config/read-auth';
import type { RequestContext } from '../http/context';
import { RegistryError } from '../http/errors';
import type { Route } from '../http/routes';
import type { RegistryMetrics } from './registry-metrics';

export const METRICS_ROUTE = 'metrics';

function exactPath(path: string): RegExp {
  return new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

async function checkAccess(ctx: RequestContext): Promise<void> {
  const { config, auth } = ctx.parts;
  if (!loginConfigured(config.http.auth)) return;
  // Wrong credentials are refused here (401), as on every other route.
  const identity = await auth.authenticate(ctx.req);
  if (identity.username === null) {
    if (config.http.accessControl?.metrics?.anonymousRead) return;
    throw new RegistryError('UNAUTHORIZED', 'metrics need a login: scrape with a registry user (Prometheus: basic_auth), or grant http.accessControl.metrics.anonymousPolicy ["read"]', undefined, {
      'WWW-Authenticate': basicChallenge(config.http.realm ?? 'perch'),
    });
  }
  const users = config.http.accessControl?.metrics?.users;
  if (users && !users.includes(identity.username)) {
    throw new RegistryError('DENIED', `user ${JSON.stringify(identity.username)} may not read metrics; an admin can add them to http.accessControl.metrics.users`);
  }
}

/** The route perch serve adds when extensions.metrics.enable is true. */
export function metricsRoute(config: PerchConfig, metrics: RegistryMetrics): Route {
  const path = config.extensions.metrics?.prometheus.path ?? '/metrics';
  return {
    name: METRICS_ROUTE,
    pattern: exactPath(path),
    methods: {
      GET: {
        access: 'none', // checked above: metrics have their own list of users
        async handler(ctx) {
          await checkAccess(ctx);
          const { contentType, body } = await metrics.render();
          const bytes = Buffer.from(body);
          ctx.res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': bytes.length, 'Cache-Control': 'no-store' });
          ctx.res.end(ctx.req.method === 'HEAD' ? undefined : bytes);
        },
      },
    },
  };
}
