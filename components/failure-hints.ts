/**
 * Failure hints: error hooks that turn a provider's failure into what to do about it. Pulumi
 * calls a resource's onError hooks when an operation on it fails; each hint here recognises one
 * failure in the provider's messages, adds an error line to `pulumi up` that says which config
 * to set, and never asks for a retry.
 */
import * as pulumi from '@pulumi/pulumi';

export interface FailureHint {
  /** Recognises the failure in one of the provider's error messages. */
  matches: RegExp;
  message: string;
}

/**
 * A LoadBalancer Service not ready within loadBalancerTimeout. The engine hands the hook the
 * error's summary ("... timed out waiting to be Ready"); the reasons under it (here "Service was
 * not allocated an IP address") are printed by the provider but not passed on.
 */
export function loadBalancerHint(seconds: number): FailureHint {
  return {
    matches: /timed out waiting to be Ready|not allocated an IP address/,
    message:
      `the Service was not ready in ${seconds} s (loadBalancerTimeout), which with a ready registry Pod means it got no ` +
      'load-balancer address: this cluster seems to have no load-balancer controller (kind, k3d without its LB, bare ' +
      'metal without MetalLB). Set ' +
      '`pulumi config set awaitLoadBalancer false` and `pulumi config set externalHost <node address>` ' +
      '(the registry is then reachable on its node port), or use serviceType NodePort',
  };
}

/** An HTTPRoute on a cluster without the Gateway API CRDs. */
export const HTTP_ROUTE_HINT: FailureHint = {
  matches: /no matches for kind "?HTTPRoute/,
  message:
    'httpRouteHost needs the Gateway API CRDs (gateway.networking.k8s.io/v1, installed with a Gateway implementation such as ' +
    'Envoy Gateway, Istio or Cilium), which this cluster does not have: install them, or unset httpRouteHost',
};

/** The hint's message when one of the errors is its failure. */
export function hintFor(hint: FailureHint, errors: readonly string[]): string | undefined {
  return errors.some((e) => hint.matches.test(e)) ? hint.message : undefined;
}

/**
 * A named error hook (named hooks are what Pulumi's onError takes). The message is logged
 * without a resource: the hook runs while the failed step is still open, before the
 * resource's URN resolves, so a log tied to the resource would wait for it forever. It names
 * the resource itself instead.
 */
export function hintHook(name: string, hint: FailureHint): pulumi.ErrorHook {
  return new pulumi.ErrorHook(name, async (args) => {
    const message = hintFor(hint, args.errors);
    // Awaited: the engine moves on (and the program may end) once the hook has answered.
    if (message !== undefined) await pulumi.log.error(`${args.type} ${args.name}: ${message}`);
    return false;
  });
}
