/** Prometheus metrics (extensions.metrics): the collector and its route. docs/operations.md lists every metric. */
export { RegistryMetrics, type GcHistory, type MetricsSources } from './registry-metrics';
export { metricsRoute, METRICS_ROUTE } from './route';
