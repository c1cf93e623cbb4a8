/**
 * The storage guard: a small resource that remembers where the registry's images live (the
 * namespace, the claim, its size and class, and whether the stack owns the namespace) and makes
 * `pulumi up` and `pulumi preview` refuse a change that would delete them, naming what would be
 * lost and how to do it on purpose (`allowDataLoss`).
 *
 * With object storage the images are in a bucket the stack never created and never deletes:
 * the guard records `claim: ''` and the bucket's location, and nothing that happens to the
 * namespace loses images. Moving from the filesystem to a bucket deletes the claim (nothing is
 * copied into the bucket), so that move is refused; moving back loses nothing (the bucket stays,
 * the new claim starts empty).
 *
 * Why a resource: the program alone cannot see the last deployment, but a provider's diff sees
 * the old and the new inputs side by side, and an error there stops the preview before any
 * change is made. The namespace name flows through the guard's output, so every namespaced
 * child waits for the guard's verdict even with `pulumi up --skip-preview`.
 *
 * The provider is a Pulumi dynamic provider: Pulumi serialises `guardProvider` (and what it
 * calls) into the stack state and runs it in the Node.js dynamic-provider plugin, so it must
 * stay self-contained: plain functions, no imports.
 */
import * as pulumi from '@pulumi/pulumi';

/** Where the stored images live; a change to any field loses them (see storageLossProblem). */
export interface StorageLocation {
  namespace: string;
  /** '' with object storage: no claim. */
  claim: string;
  /** '' with object storage. */
  storageSize: string;
  /** '' for the cluster's default class, and with object storage. */
  storageClass: string;
  /** The stack created the namespace, so removing it from the stack deletes it. */
  namespaceOwned: boolean;
  /**
   * Object storage only (absent for the filesystem, as in stacks from before it existed): the
   * bucket, e.g. `s3://registry-images/perch`.
   */
  objectStorage?: string;
}

export interface StorageGuardInputs extends StorageLocation {
  /** Go ahead with a change that deletes the stored images (stack config `allowDataLoss`). */
  allowDataLoss: boolean;
}

/**
 * What a move from `before` to `after` would delete, as the message `pulumi up` shows, or
 * undefined when the images stay where they are.
 */
export function storageLossProblem(before: StorageLocation, after: StorageLocation): string | undefined {
  // The images were in a bucket, which nothing in the stack deletes.
  if (before.claim === '') return undefined;
  const claim = `the PersistentVolumeClaim "${before.claim}" in namespace "${before.namespace}"`;
  const onPurpose =
    'To do it on purpose, copy the images out first (crane copy, skopeo sync, or oras copy of each repository; ' +
    'docs/pulumi.md "What changes do") and run `pulumi config set allowDataLoss true` for that one `pulumi up`.';
  const why: string[] = [];
  const keep: string[] = [];
  if (before.namespace !== after.namespace) {
    why.push(`namespace changes from "${before.namespace}" to "${after.namespace}"`);
    keep.push(`pulumi config set namespace ${before.namespace}`);
  }
  if (before.namespaceOwned && !after.namespaceOwned && before.namespace === after.namespace) {
    why.push(`createNamespace turns false, so the stack deletes the namespace "${before.namespace}" it created, and Kubernetes deletes everything in it`);
    keep.push('pulumi config set createNamespace true');
  }
  if (after.claim === '') {
    // The claim goes as a whole, whatever its name, size or class.
    why.push(
      `storageDriver changes from filesystem to object storage (${after.objectStorage ?? 'a bucket'}), which removes the claim; ` +
        'nothing copies the images into the bucket',
    );
    keep.push('pulumi config set storageDriver filesystem');
  } else {
    if (before.claim !== after.claim) {
      why.push(`the claim's name changes from "${before.claim}" to "${after.claim}"`);
      keep.push(`names.pvc "${before.claim}"`);
    }
    if (before.storageSize !== after.storageSize) {
      why.push(`storageSize changes from ${before.storageSize} to ${after.storageSize}, which replaces the claim`);
      keep.push(`pulumi config set storageSize ${before.storageSize}`);
    }
    if (before.storageClass !== after.storageClass) {
      const name = (c: string) => (c === '' ? 'the cluster default' : `"${c}"`);
      why.push(`storageClass changes from ${name(before.storageClass)} to ${name(after.storageClass)}, which replaces the claim`);
      keep.push(before.storageClass === '' ? 'pulumi config rm storageClass' : `pulumi config set storageClass ${before.storageClass}`);
    }
  }
  if (why.length === 0) return undefined;
  return (
    `refusing to delete the stored images: ${why.join('; ')}. ` +
    `That deletes ${claim} and every image and chart stored in it. ` +
    `To keep them, undo the change (${keep.join('; ')}). ${onPurpose}`
  );
}

const LOCATION_KEYS: readonly (keyof StorageGuardInputs)[] = [
  'namespace',
  'claim',
  'storageSize',
  'storageClass',
  'namespaceOwned',
  'objectStorage',
  'allowDataLoss',
];

/** The dynamic provider: nothing to create in the cluster, only a verdict on every diff. */
export const guardProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: StorageGuardInputs) {
    return { id: `${inputs.namespace}/${inputs.claim !== '' ? inputs.claim : inputs.objectStorage}`, outs: inputs };
  },
  async diff(_id: string, olds: StorageGuardInputs, news: StorageGuardInputs) {
    const problem = storageLossProblem(olds, news);
    if (problem !== undefined && !news.allowDataLoss) throw new Error(problem);
    return { changes: LOCATION_KEYS.some((key) => olds[key] !== news[key]), replaces: [], deleteBeforeReplace: false };
  },
  async update(_id: string, _olds: StorageGuardInputs, news: StorageGuardInputs) {
    return { outs: news };
  },
};

export class StorageGuard extends pulumi.dynamic.Resource {
  /** The namespace, known only once the guard has accepted the change. */
  declare readonly namespace: pulumi.Output<string>;

  constructor(name: string, inputs: StorageGuardInputs, opts?: pulumi.CustomResourceOptions) {
    super(guardProvider, name, { ...inputs }, opts, 'storage', 'StorageGuard');
  }
}
