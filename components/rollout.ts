/**
 * How many registry Pods run and how a new Pod template replaces the old one; the one place
 * that decides it from where the images live.
 *
 * - Filesystem: one ReadWriteOnce volume, which one Pod at a time can mount. One replica, and
 *   `Recreate`: the old Pod releases the volume before the new one starts (seconds without a
 *   registry on every rollout).
 * - Object storage: the Pods share the bucket, so `replicas` of them, and `RollingUpdate` with
 *   maxSurge 1 and maxUnavailable 0: a new Pod must be ready (its /readyz checks that the bucket
 *   is writable) before an old one goes, so a rollout never leaves fewer ready Pods than asked.
 *   With more than one replica a PodDisruptionBudget lets voluntary evictions (node drains,
 *   cluster upgrades) take one Pod at a time. With one it would either block every drain
 *   (minAvailable 1) or allow what happens anyway, so there is none.
 */
import type * as k8s from '@pulumi/kubernetes';

type DeploymentStrategy = k8s.types.input.apps.v1.DeploymentStrategy;
type PodDisruptionBudgetSpec = k8s.types.input.policy.v1.PodDisruptionBudgetSpec;

export interface Rollout {
  replicas: number;
  strategy: DeploymentStrategy;
}

export function registryRollout(objectStorage: boolean, replicas: number): Rollout {
  if (!objectStorage) return { replicas: 1, strategy: { type: 'Recreate' } };
  return { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } };
}

/** The budget for the registry's Pods, or undefined when there is a single one. */
export function disruptionBudgetSpec(
  rollout: Rollout,
  selector: Record<string, string>,
): PodDisruptionBudgetSpec | undefined {
  if (rollout.replicas <= 1) return undefined;
  return { maxUnavailable: 1, selector: { matchLabels: selector } };
}
