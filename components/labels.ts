/**
 * Kubernetes recommended labels. The registry's selector includes the component, so the seed
 * Jobs' Pods (same name and instance, component "seed") never receive Service traffic.
 */
export type Component = 'registry' | 'seed';

export function selectorLabels(instance: string, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'zot-registry',
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/component': component,
  };
}

export function commonLabels(instance: string, component?: Component): Record<string, string> {
  const labels: Record<string, string> = {
    'app.kubernetes.io/name': 'zot-registry',
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/part-of': 'roost-registry',
    'app.kubernetes.io/managed-by': 'pulumi',
  };
  if (component !== undefined) labels['app.kubernetes.io/component'] = component;
  return labels;
}
