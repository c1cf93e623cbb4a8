/**
 * The kubelet's HTTP probes, run from the host against a container on the host network:
 * success is a status from 200 to 399 within timeoutSeconds (Kubernetes "Configure Liveness,
 * Readiness and Startup Probes"). `waitForProbe` polls every periodSeconds until success or
 * until failureThreshold periods have failed, the budget the kubelet gives a startup probe.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Container, Probe } from './kube-objects';
import { resolvePort } from './pod-run-spec';

export interface ProbeResult {
  ok: boolean;
  status?: number;
  body: string;
  error?: string;
}

export function probeUrl(container: Container, probe: Probe): string {
  const get = probe.httpGet;
  if (!get) throw new Error(`container ${container.name}: only httpGet probes are reproduced by this test`);
  const scheme = (get.scheme ?? 'HTTP').toLowerCase();
  return `${scheme}://127.0.0.1:${resolvePort(container, get.port)}${get.path ?? '/'}`;
}

export async function probeOnce(container: Container, probe: Probe): Promise<ProbeResult> {
  try {
    const res = await fetch(probeUrl(container, probe), { signal: AbortSignal.timeout((probe.timeoutSeconds ?? 1) * 1000) });
    const body = await res.text();
    return { ok: res.status >= 200 && res.status < 400, status: res.status, body };
  } catch (err) {
    return { ok: false, body: '', error: (err as Error).message };
  }
}

/** Polls like the kubelet; `stillRunning` stops early when the container has died. */
export async function waitForProbe(
  container: Container,
  probe: Probe,
  stillRunning: () => Promise<boolean>,
  describe: () => string,
): Promise<ProbeResult> {
  const period = (probe.periodSeconds ?? 10) * 1000;
  const attempts = (probe.failureThreshold ?? 3) + Math.ceil(((probe.initialDelaySeconds ?? 0) * 1000) / period);
  let last: ProbeResult = { ok: false, body: '' };
  for (let i = 0; i < attempts; i++) {
    last = await probeOnce(container, probe);
    if (last.ok) return last;
    if (!(await stillRunning())) break;
    await sleep(period);
  }
  throw new Error(
    `probe ${probeUrl(container, probe)} did not succeed (${last.status ?? last.error}); container log:\n${describe()}`,
  );
}
