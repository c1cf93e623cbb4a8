/**
 * What `perch serve` adds around the registry core (http/hooks.ts), from the config:
 * GET /health and the observer that tells it of pushes refused for lack of space, the
 * Prometheus metrics route and its request observer (extensions.metrics.enable), the browse
 * UI (extensions.ui.enable), the rate limiter (http.ratelimit) and the security headers.
 * docs/operations.md describes each for users.
 */
import type { PerchConfig } from '../config/types';
import type { RegistryHooks } from '../http/hooks';
import { securityHeaders } from '../http/security-headers';
import { healthReportRoute, type HealthSources } from '../handlers/health-report';
import { NoSpaceWatch } from '../handlers/no-space-watch';
import type { Logger } from '../log';
import { metricsRoute, RegistryMetrics, type GcHistory } from '../metrics';
import { RateLimiter } from '../ratelimit';
import type { Store } from '../storage/types';
import { uiRoutes } from '../ui/routes';
import { version } from '../../package.json';

export interface OperationsDeps {
  store: Store;
  log: Logger;
  /** When serving began (the health report's uptime). */
  startedMs: number;
  tls?: HealthSources['tls'];
  /** The GC scheduler, once serve runs one: the health report and the GC metrics read its history. */
  gc?: GcHistory;
}

export function operationsHooks(config: PerchConfig, deps: OperationsDeps): { hooks: RegistryHooks; metrics?: RegistryMetrics } {
  const metrics = config.extensions.metrics?.enable ? new RegistryMetrics({ store: deps.store, gc: deps.gc, log: deps.log, version }) : undefined;
  const space = new NoSpaceWatch();
  const hooks: RegistryHooks = {
    routes: [healthReportRoute({ startedMs: deps.startedMs, tls: deps.tls, gc: deps.gc, space }), ...(metrics ? [metricsRoute(config, metrics)] : []), ...uiRoutes(config)],
    observers: metrics ? [metrics, space] : [space],
    limiter: config.http.ratelimit ? new RateLimiter(config.http.ratelimit) : undefined,
    headers: securityHeaders,
  };
  return { hooks, metrics };
}
