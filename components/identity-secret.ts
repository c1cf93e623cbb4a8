/**
 * The identity Secret (`zot-registry-identity`): the OpenID Connect and LDAP credentials files
 * (components/identity-config.ts), created by ZotRegistry only when the settings need one, and
 * what the registry Pod needs to mount it and to roll when it changes.
 *
 * The files' text stays a secret Output all the way into the Secret's stringData; only the
 * HMAC of it (under a random key the state keeps) is unsecreted for the Pod template, so a
 * preview still shows the Deployment's diff.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { IDENTITY_CHECKSUM_KEY_BYTES, identityChecksum, identityCredentialFiles, SESSION_KEY_BYTES, type IdentityPodInputs } from './identity-config';
import type { IdentitySettings } from './identity-settings';

export interface IdentitySecretArgs {
  /** The component's name; children are `<name>-identity`, `<name>-identity-checksum-key` and (OpenID Connect) `<name>-session-keys`. */
  name: string;
  secretName: string;
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
  identity: IdentitySettings;
}

export interface IdentitySecret {
  secret: k8s.core.v1.Secret;
  pod: IdentityPodInputs;
}

/** The Secret and its Pod inputs, or undefined when no credentials file is needed. */
export function identitySecret(args: IdentitySecretArgs, opts: pulumi.CustomResourceOptions): IdentitySecret | undefined {
  const files = identityCredentialFiles(args.identity, () =>
    pulumi.secret(new random.RandomBytes(`${args.name}-session-keys`, { length: SESSION_KEY_BYTES }, opts).hex),
  );
  if (files.length === 0) return undefined;
  const secret = new k8s.core.v1.Secret(
    `${args.name}-identity`,
    {
      metadata: { name: args.secretName, namespace: args.namespace, labels: args.labels },
      type: 'Opaque',
      stringData: Object.fromEntries(files.map((f) => [f.key, pulumi.secret(f.text)])),
    },
    opts,
  );
  const checksumKey = new random.RandomBytes(`${args.name}-identity-checksum-key`, { length: IDENTITY_CHECKSUM_KEY_BYTES }, opts);
  const checksum = pulumi.unsecret(
    pulumi
      .all([checksumKey.hex, ...files.map((f) => f.text)])
      .apply(([keyHex, ...texts]) => identityChecksum(keyHex!, files.map((f, i) => [f.key, texts[i]!] as const))),
  );
  return { secret, pod: { secretName: secret.metadata.name, keys: files.map((f) => f.key), checksum } };
}
