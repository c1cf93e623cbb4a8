/**
 * The seed Jobs: perch's `seed` command, run once per chart against the in-cluster Service,
 * with credentials from the seed Secret through environment variables whose names the seed
 * command defines. Pure: builds the Job spec from names and values.
 */
import type * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { TMP_DIR } from './container-interface';
import type { SeedChart } from './names';
import { containerSecurityContext, podSecurityContext } from './pod-security';

/** Keys of the seed Secret; the Job maps them to the seed command's SEED_ENV variables. */
export const SEED_SECRET_KEYS = { username: 'username', password: 'password' } as const;

/** Retries before a Job counts as failed (with Kubernetes' exponential back-off: ~6 minutes). */
export const SEED_BACKOFF_LIMIT = 6;

/** Environment variable names for the credentials (the seed command's SEED_ENV). */
export interface SeedEnvNames {
  readonly username: string;
  readonly password: string;
}

export interface SeedArgsInputs {
  /** http://<service>.<ns>.svc.cluster.local:5000 */
  registry: string;
  chart: SeedChart;
  /** oci://<registry host>/roost-test: where charts' dependencies are fetched from later. */
  dependencyRepository: string;
  /** The in-cluster Service speaks plain HTTP. */
  insecure: boolean;
}

export function seedArgs(inputs: SeedArgsInputs): string[] {
  const args = [
    'seed',
    '--registry',
    inputs.registry,
    '--chart',
    `${inputs.chart.name}@${inputs.chart.version}`,
    '--dependency-repository',
    inputs.dependencyRepository,
  ];
  if (inputs.insecure) args.push('--insecure');
  return args;
}

export interface SeedJobInputs {
  image: string;
  labels: Record<string, string>;
  args: pulumi.Input<string[]>;
  secretName: pulumi.Input<string>;
  env: SeedEnvNames;
}

export function seedJobSpec(inputs: SeedJobInputs): k8s.types.input.batch.v1.JobSpec {
  const fromSecret = (key: string) => ({ secretKeyRef: { name: inputs.secretName, key } });
  return {
    backoffLimit: SEED_BACKOFF_LIMIT,
    // No ttlSecondsAfterFinished: a Job Kubernetes deleted on its own would look like drift to
    // Pulumi and be run again; a finished Job also keeps its logs for troubleshooting.
    template: {
      metadata: { labels: inputs.labels },
      spec: {
        // Failed Pods stay for `kubectl logs`; the Job makes a new Pod per retry.
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: podSecurityContext(),
        containers: [
          {
            name: 'seed',
            image: inputs.image,
            imagePullPolicy: 'IfNotPresent',
            // args only: the image's ENTRYPOINT is perch.
            args: inputs.args,
            env: [
              { name: inputs.env.username, valueFrom: fromSecret(SEED_SECRET_KEYS.username) },
              { name: inputs.env.password, valueFrom: fromSecret(SEED_SECRET_KEYS.password) },
            ],
            resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
            securityContext: containerSecurityContext(),
            volumeMounts: [{ name: 'tmp', mountPath: TMP_DIR }],
          },
        ],
        volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
      },
    },
  };
}
