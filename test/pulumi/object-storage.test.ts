/**
 * Object storage and replicas (docs/pulumi.md "Scaling out"): with storageDriver s3, gcs or
 * azure there is no claim, the registry's rootDirectory is an emptyDir, config.json carries
 * zot's storage.storageDriver block, credentials reach the Pod from a Secret (never config.json),
 * the Deployment runs `replicas` Pods with a RollingUpdate, and a PodDisruptionBudget comes with
 * more than one. The filesystem default is covered, unchanged, by the other files.
 */
import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { parseConfig } from 'perch/config';
import { DEFAULTS } from '../../components/defaults';
import {
  CONFIG_FILE,
  DATA_DIR,
  GCS_CREDENTIALS_FILE,
  GCS_CREDENTIALS_PATH,
  STORAGE_CREDENTIALS_DIR,
} from '../../components/container-interface';
import { OBJECT_STORAGE_KEYS } from '../../components/object-storage-keys';
import { CHECKSUM_ANNOTATION, STORAGE_CREDENTIALS_CHECKSUM_ANNOTATION } from '../../components/registry-pod';
import { guardProvider, storageLossProblem, type StorageGuardInputs } from '../../components/storage-guard';
import { googleCredentialsJson } from '../../components/validators';
import { keysOutside, ZOT_V2_1_20_KEYS } from './zot-keys';
import {
  projectConfig,
  registryPodSpec,
  renderComponent,
  renderProgram,
  type RenderedProgram,
  type RenderProgramOptions,
  type StackConfig,
} from './render';

const T = {
  pvc: 'kubernetes:core/v1:PersistentVolumeClaim',
  secret: 'kubernetes:core/v1:Secret',
  configMap: 'kubernetes:core/v1:ConfigMap',
  deployment: 'kubernetes:apps/v1:Deployment',
  pdb: 'kubernetes:policy/v1:PodDisruptionBudget',
  guard: 'pulumi-nodejs:dynamic/storage:StorageGuard',
};
const STORAGE_SECRET = 'zot-registry-object-storage';

/** MinIO in the cluster, reached over plain HTTP with path-style URLs. */
const MINIO: StackConfig = {
  storageDriver: 's3',
  objectStorageBucket: 'registry',
  objectStorageRootDirectory: '/perch',
  s3Endpoint: 'http://minio.storage.svc.cluster.local:9000',
  s3ForcePathStyle: true,
  s3Secure: false,
};
const ACCESS_KEY_ID = 'AKIAMOCKACCESSKEY01';
const SECRET_ACCESS_KEY = 'mock/Secret+Access/Key0123456789abcdefghij';
const MINIO_WITH_KEYS: RenderProgramOptions = {
  config: { ...MINIO, s3AccessKeyId: ACCESS_KEY_ID, s3SecretAccessKey: SECRET_ACCESS_KEY },
  secretKeys: ['s3AccessKeyId', 's3SecretAccessKey'],
};
const GCS_KEY_FILE = JSON.stringify({ type: 'service_account', project_id: 'mock', private_key: '-----BEGIN PRIVATE KEY-----\nMOCKGCSKEY\n-----END PRIVATE KEY-----\n' });
const AZURE_KEY = 'bW9jay1henVyZS1zdG9yYWdlLWFjY291bnQta2V5LTAxMjM0NTY3ODk=';
const AZURE: StackConfig = { storageDriver: 'azure', azureAccountName: 'perchimages', azureContainer: 'registry' };

function configJson(rendered: RenderedProgram): any {
  return JSON.parse(rendered.configMapData('zot-registry-config')[CONFIG_FILE]!);
}

function container(rendered: RenderedProgram): Record<string, any> {
  return registryPodSpec(rendered).containers[0];
}

function deploymentSpec(rendered: RenderedProgram): Record<string, any> {
  return rendered.find(T.deployment).inputs.spec;
}

/** Every resource whose inputs contain `needle` (as text, or base64-encoded). */
function holders(rendered: RenderedProgram, needle: string): string[] {
  const encoded = Buffer.from(needle).toString('base64');
  return rendered.resources
    .filter((r) => {
      const text = JSON.stringify(r.inputs);
      return text.includes(needle) || text.includes(encoded);
    })
    .map((r) => `${r.type} ${r.inputs.metadata?.name ?? r.name}`);
}

async function configError(options: RenderProgramOptions): Promise<Error> {
  try {
    await renderProgram(options);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`the program accepted ${JSON.stringify(options.config)}`);
}

describe('object storage: the resources', () => {
  it('no claim; the registry\'s rootDirectory is an emptyDir scratch folder', async () => {
    const rendered = await renderProgram({ config: MINIO });
    expect(rendered.all(T.pvc)).toEqual([]);
    const pod = registryPodSpec(rendered);
    expect(pod.volumes.find((v: any) => v.name === 'data')).toEqual({ name: 'data', emptyDir: {} });
    expect(container(rendered).volumeMounts).toContainEqual({ name: 'data', mountPath: DATA_DIR });
    expect(configJson(rendered).storage.rootDirectory).toBe(DATA_DIR);
  });

  it('without credentials: no Secret, no env, no extra volume; the Pod runs as serviceAccountName', async () => {
    const rendered = await renderProgram({ config: { ...MINIO, serviceAccountName: 'registry-irsa' } });
    expect(rendered.resources.filter((r) => r.inputs.metadata?.name === STORAGE_SECRET)).toEqual([]);
    const pod = registryPodSpec(rendered);
    expect(pod.serviceAccountName).toBe('registry-irsa');
    // The registry still never talks to the Kubernetes API; identity webhooks project their own token.
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container(rendered).env).toBeUndefined();
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['config', 'secret', 'data', 'tmp']);
    expect(rendered.find(T.deployment).inputs.spec.template.metadata.annotations).not.toHaveProperty(STORAGE_CREDENTIALS_CHECKSUM_ANNOTATION);
  });

  it('serviceAccountName works with the filesystem too, and is absent when unset', async () => {
    expect(registryPodSpec(await renderProgram({ config: { serviceAccountName: 'registry' } })).serviceAccountName).toBe('registry');
    expect(registryPodSpec(await renderProgram()).serviceAccountName).toBeUndefined();
  });

  it('a guard that records the bucket and no claim', async () => {
    const rendered = await renderProgram({ config: MINIO });
    expect(rendered.find(T.guard).inputs).toMatchObject({
      namespace: 'zot-registry',
      claim: '',
      storageSize: '',
      storageClass: '',
      namespaceOwned: true,
      objectStorage: 's3://registry/perch',
      allowDataLoss: false,
    });
  });
});

describe('object storage: credentials', () => {
  it('S3 keys: one Secret, marked secret, read into AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY', async () => {
    const rendered = await renderProgram(MINIO_WITH_KEYS);
    expect(rendered.secretData(STORAGE_SECRET)).toEqual({
      'aws-access-key-id': ACCESS_KEY_ID,
      'aws-secret-access-key': SECRET_ACCESS_KEY,
    });
    const secret = rendered.resources.find((r) => r.inputs.metadata?.name === STORAGE_SECRET)!;
    expect(secret.secretPaths).toContain('stringData');
    expect(container(rendered).env).toEqual([
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: STORAGE_SECRET, key: 'aws-access-key-id' } } },
      { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: STORAGE_SECRET, key: 'aws-secret-access-key' } } },
    ]);
  });

  it('the values are in that Secret only: not config.json, not the Deployment, not an output', async () => {
    const rendered = await renderProgram(MINIO_WITH_KEYS);
    for (const value of [ACCESS_KEY_ID, SECRET_ACCESS_KEY]) {
      expect(holders(rendered, value), value).toEqual([`${T.secret} ${STORAGE_SECRET}`]);
      expect(JSON.stringify(rendered.outputs)).not.toContain(value);
    }
    const config = rendered.configMapData('zot-registry-config')[CONFIG_FILE]!;
    expect(config).not.toMatch(/accesskey|secretkey/i);
  });

  it('the credentials have their own checksum on the Pod template, so new ones roll the Pods', async () => {
    const annotations = async (id: string) =>
      (await renderProgram({ ...MINIO_WITH_KEYS, config: { ...MINIO_WITH_KEYS.config, s3AccessKeyId: id } })).find(T.deployment).inputs.spec
        .template.metadata.annotations;
    const before = await annotations(ACCESS_KEY_ID);
    const after = await annotations('AKIAMOCKACCESSKEY02');
    expect(before[STORAGE_CREDENTIALS_CHECKSUM_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/);
    expect(after[STORAGE_CREDENTIALS_CHECKSUM_ANNOTATION]).not.toBe(before[STORAGE_CREDENTIALS_CHECKSUM_ANNOTATION]);
    expect(after[CHECKSUM_ANNOTATION]).toBe(before[CHECKSUM_ANNOTATION]);
  });

  it('the checksum is not marked secret: a preview still shows the Deployment', async () => {
    const rendered = await renderProgram(MINIO_WITH_KEYS);
    expect(rendered.find(T.deployment).secretPaths).toEqual([]);
  });

  it('GCS key file: mounted as a file from the Secret, and config.json names that file', async () => {
    const rendered = await renderProgram({
      config: { storageDriver: 'gcs', objectStorageBucket: 'perch-images', gcsCredentialsJson: GCS_KEY_FILE },
      secretKeys: ['gcsCredentialsJson'],
    });
    expect(rendered.secretData(STORAGE_SECRET)).toEqual({ [GCS_CREDENTIALS_FILE]: GCS_KEY_FILE });
    const pod = registryPodSpec(rendered);
    expect(pod.volumes).toContainEqual({
      name: 'storage-credentials',
      secret: { secretName: STORAGE_SECRET, items: [{ key: GCS_CREDENTIALS_FILE, path: GCS_CREDENTIALS_FILE }], defaultMode: 0o440 },
    });
    // A directory, never subPath, so a new key reaches the running file.
    expect(container(rendered).volumeMounts).toContainEqual({ name: 'storage-credentials', mountPath: STORAGE_CREDENTIALS_DIR, readOnly: true });
    expect(container(rendered).env).toBeUndefined();
    expect(configJson(rendered).storage.storageDriver).toEqual({ name: 'gcs', bucket: 'perch-images', credentialsFile: GCS_CREDENTIALS_PATH });
    expect(holders(rendered, 'MOCKGCSKEY')).toEqual([`${T.secret} ${STORAGE_SECRET}`]);
  });

  it('Azure account key: AZURE_STORAGE_KEY from the Secret, and no default_credentials', async () => {
    const rendered = await renderProgram({ config: { ...AZURE, azureAccountKey: AZURE_KEY }, secretKeys: ['azureAccountKey'] });
    expect(rendered.secretData(STORAGE_SECRET)).toEqual({ 'azure-storage-key': AZURE_KEY });
    expect(container(rendered).env).toEqual([
      { name: 'AZURE_STORAGE_KEY', valueFrom: { secretKeyRef: { name: STORAGE_SECRET, key: 'azure-storage-key' } } },
    ]);
    expect(configJson(rendered).storage.storageDriver).toEqual({ name: 'azure', accountname: 'perchimages', container: 'registry' });
    expect(holders(rendered, AZURE_KEY)).toEqual([`${T.secret} ${STORAGE_SECRET}`]);
    expect(rendered.find(T.deployment).inputs.spec.template.metadata.labels).not.toHaveProperty('azure.workload.identity/use');
  });

  it('Azure without a key: default_credentials, and the label Azure Workload Identity\'s webhook looks for', async () => {
    const rendered = await renderProgram({ config: { ...AZURE, serviceAccountName: 'registry-wi' } });
    expect(configJson(rendered).storage.storageDriver.credentials).toEqual({ type: 'default_credentials' });
    const template = rendered.find(T.deployment).inputs.spec.template;
    expect(template.metadata.labels['azure.workload.identity/use']).toBe('true');
    // Not in the selector: the label is the Pod's, the Deployment still selects by name and component.
    expect(rendered.find(T.deployment).inputs.spec.selector.matchLabels).not.toHaveProperty('azure.workload.identity/use');
    expect(template.spec.serviceAccountName).toBe('registry-wi');
  });

  it('credentials given to the component directly are secrets in the Secret too', async () => {
    const rendered = await renderComponent({
      storageDriver: 's3',
      objectStorage: { bucket: 'registry', region: 'eu-central-1', accessKeyId: 'AKIAPLAINARG', secretAccessKey: 'plain-arg-secret' },
    });
    const secret = rendered.resources.find((r) => r.inputs.metadata?.name === STORAGE_SECRET)!;
    expect(secret.secretPaths).toContain('stringData');
    expect(holders(rendered as unknown as RenderedProgram, 'plain-arg-secret')).toEqual([`${T.secret} ${STORAGE_SECRET}`]);
  });
});

describe('object storage: config.json', () => {
  it('s3: every setting in zot\'s lower-case driver keys; perch loads it', async () => {
    const rendered = await renderProgram({ config: MINIO });
    const json = configJson(rendered);
    expect(json.storage).toEqual({
      rootDirectory: DATA_DIR,
      storageDriver: {
        name: 's3',
        bucket: 'registry',
        region: 'us-east-1',
        regionendpoint: 'http://minio.storage.svc.cluster.local:9000',
        rootdirectory: '/perch',
        forcepathstyle: true,
        secure: false,
        skipverify: false,
      },
    });
    // Only zot's keys (storageDriver is zot's, free-form for its driver).
    expect(keysOutside(ZOT_V2_1_20_KEYS, json)).toEqual([]);
    // perch's loader takes it; at most it says something about storageDriver itself.
    const { config, warnings } = parseConfig(json, 'configmap zot-registry-config');
    expect(config.storage.rootDirectory).toBe(DATA_DIR);
    expect(warnings.filter((w) => !/storageDriver/.test(w))).toEqual([]);
  });

  it('s3 with an endpoint and a region of its own', async () => {
    const rendered = await renderProgram({ config: { ...MINIO, s3Region: 'garage' } });
    expect(configJson(rendered).storage.storageDriver.region).toBe('garage');
  });

  it('s3 on AWS: only bucket and region given, the rest at their defaults', async () => {
    const rendered = await renderProgram({ config: { storageDriver: 's3', objectStorageBucket: 'perch-images', s3Region: 'eu-central-1' } });
    expect(configJson(rendered).storage.storageDriver).toEqual({
      name: 's3',
      bucket: 'perch-images',
      region: 'eu-central-1',
      forcepathstyle: false,
      secure: true,
      skipverify: false,
    });
  });

  it('gcs without a key file: Application Default Credentials (no credentialsFile)', async () => {
    const rendered = await renderProgram({ config: { storageDriver: 'gcs', objectStorageBucket: 'perch-images', objectStorageRootDirectory: 'registry' } });
    expect(configJson(rendered).storage.storageDriver).toEqual({ name: 'gcs', bucket: 'perch-images', rootdirectory: 'registry' });
    expect(keysOutside(ZOT_V2_1_20_KEYS, configJson(rendered))).toEqual([]);
  });

  it('azure with a realm and a root directory', async () => {
    const rendered = await renderProgram({ config: { ...AZURE, azureRealm: 'core.chinacloudapi.cn', objectStorageRootDirectory: '/perch' } });
    expect(configJson(rendered).storage.storageDriver).toEqual({
      name: 'azure',
      accountname: 'perchimages',
      container: 'registry',
      rootdirectory: '/perch',
      realm: 'core.chinacloudapi.cn',
      credentials: { type: 'default_credentials' },
    });
  });
});

describe('replicas, strategy and the disruption budget', () => {
  it('object storage, one replica: RollingUpdate (a new Pod ready before the old one goes), no budget', async () => {
    const rendered = await renderProgram({ config: MINIO });
    const spec = deploymentSpec(rendered);
    expect(spec.replicas).toBe(1);
    expect(spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(rendered.all(T.pdb)).toEqual([]);
  });

  it('object storage, three replicas: three Pods and a policy/v1 budget of one unavailable, on the registry Pods only', async () => {
    const rendered = await renderProgram({ config: { ...MINIO, replicas: 3 } });
    const spec = deploymentSpec(rendered);
    expect(spec.replicas).toBe(3);
    expect(spec.strategy.type).toBe('RollingUpdate');
    const pdb = rendered.find(T.pdb).inputs;
    expect(pdb.metadata).toMatchObject({ name: 'zot-registry', namespace: 'zot-registry' });
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: spec.selector.matchLabels } });
    expect(pdb.spec.selector.matchLabels['app.kubernetes.io/component']).toBe('registry');
  });

  it('the filesystem keeps one replica and Recreate', async () => {
    const spec = deploymentSpec(await renderProgram({ config: { replicas: 1 } }));
    expect(spec.replicas).toBe(1);
    expect(spec.strategy).toEqual({ type: 'Recreate' });
  });
});

describe('object storage: config errors name the key, and never a secret', () => {
  const cases: Array<{ label: string; options: RenderProgramOptions; key: string; says: RegExp[] }> = [
    {
      label: 'more than one replica on the filesystem',
      options: { config: { replicas: 2 } },
      key: 'replicas',
      says: [/2 needs object storage/, /set storageDriver to s3\/gcs\/azure: a ReadWriteOnce volume holds one replica/],
    },
    { label: 'no replicas', options: { config: { ...MINIO, replicas: 0 } }, key: 'replicas', says: [/from 1 to 100/] },
    { label: 'unknown driver', options: { config: { storageDriver: 'minio' } }, key: 'storageDriver', says: [/filesystem, s3, gcs, azure/] },
    {
      label: 's3 without a bucket',
      options: { config: { storageDriver: 's3', s3Region: 'us-east-1' } },
      key: 'objectStorageBucket',
      says: [/required with storageDriver s3/, /pulumi config set objectStorageBucket/],
    },
    {
      label: 's3 on AWS (no endpoint) without a region',
      options: { config: { storageDriver: 's3', objectStorageBucket: 'b-1' } },
      key: 's3Region',
      says: [/required with storageDriver s3/, /eu-central-1/, /s3Endpoint/],
    },
    { label: 'gcs without a bucket', options: { config: { storageDriver: 'gcs' } }, key: 'objectStorageBucket', says: [/required with storageDriver gcs/] },
    { label: 'azure without an account', options: { config: { storageDriver: 'azure', azureContainer: 'registry' } }, key: 'azureAccountName', says: [/required with storageDriver azure/] },
    { label: 'azure without a container', options: { config: { storageDriver: 'azure', azureAccountName: 'perchimages' } }, key: 'azureContainer', says: [/required/] },
    { label: 'a bucket given as a URL', options: { config: { ...MINIO, objectStorageBucket: 's3://registry/perch' } }, key: 'objectStorageBucket', says: [/without s3:\/\//, /objectStorageRootDirectory/] },
    { label: 'an endpoint without a scheme', options: { config: { ...MINIO, s3Endpoint: 'minio:9000' } }, key: 's3Endpoint', says: [/http:\/\//] },
    {
      label: 'a bucket setting without storageDriver (still filesystem)',
      options: { config: { objectStorageBucket: 'registry' } },
      key: 'objectStorageBucket',
      says: [/storageDriver is filesystem/, /set storageDriver to s3 or gcs/, /pulumi config rm objectStorageBucket/],
    },
    { label: 'an S3 setting with gcs', options: { config: { storageDriver: 'gcs', objectStorageBucket: 'b-1', s3ForcePathStyle: true } }, key: 's3ForcePathStyle', says: [/setting of s3 only/] },
    { label: 'the claim\'s size with a bucket', options: { config: { ...MINIO, storageSize: '20Gi' } }, key: 'storageSize', says: [/no claim/, /pulumi config rm storageSize/] },
    { label: 'the claim\'s class with a bucket', options: { config: { ...MINIO, storageClass: 'fast' } }, key: 'storageClass', says: [/no claim/] },
    { label: 'a service account that is no Kubernetes name', options: { config: { serviceAccountName: 'Registry SA' } }, key: 'serviceAccountName', says: [/not a valid Kubernetes object name/] },
  ];

  for (const { label, options, key, says } of cases) {
    it(`${label}: names "${key}"`, async () => {
      const err = await configError(options);
      expect(err.name).toBe('ConfigError');
      expect(err.message.startsWith(`Invalid config "${key}": `)).toBe(true);
      for (const pattern of says) expect(err.message).toMatch(pattern);
    });
  }

  it('one S3 key without the other names the missing one, and shows neither', async () => {
    const err = await configError({ config: { ...MINIO, s3AccessKeyId: ACCESS_KEY_ID }, secretKeys: ['s3AccessKeyId'] });
    expect(err.message).toMatch(/^Invalid config "s3SecretAccessKey": is missing/);
    expect(err.message).not.toContain(ACCESS_KEY_ID);
  });

  it('an S3 key given with another driver is named, not shown', async () => {
    const err = await configError({ config: { ...AZURE, s3SecretAccessKey: SECRET_ACCESS_KEY }, secretKeys: ['s3SecretAccessKey'] });
    expect(err.message).toMatch(/^Invalid config "s3SecretAccessKey": is set but storageDriver is azure/);
    expect(err.message).not.toContain(SECRET_ACCESS_KEY);
  });

  it('an endpoint with a user and password in it is refused without echoing them', async () => {
    const err = await configError({ config: { ...MINIO, s3Endpoint: 'http://minio:Passw0rd-in-url@minio:9000' } });
    expect(err.message).toMatch(/^Invalid config "s3Endpoint": holds a user name or password/);
    expect(err.message).not.toContain('Passw0rd-in-url');
  });

  it('a GCS key that is not a credentials file is refused without quoting it', () => {
    expect(googleCredentialsJson('gcsCredentialsJson', GCS_KEY_FILE)).toBe(GCS_KEY_FILE);
    for (const bad of ['not-json-MOCKGCSKEY', '{"private_key":"MOCKGCSKEY"}', '"MOCKGCSKEY"']) {
      let message = '';
      try {
        googleCredentialsJson('gcsCredentialsJson', bad);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, bad).toMatch(/^Invalid config "gcsCredentialsJson": /);
      expect(message, bad).not.toContain('MOCKGCSKEY');
    }
  });
});

describe('object storage: reruns and changes', () => {
  function inputsByResource(rendered: RenderedProgram): Map<string, unknown> {
    return new Map(rendered.resources.map((r) => [`${r.type} ${r.name}`, r.inputs]));
  }

  function changed(a: RenderedProgram, b: RenderedProgram): string[] {
    const left = inputsByResource(a);
    const right = inputsByResource(b);
    expect([...right.keys()].sort()).toEqual([...left.keys()].sort());
    return [...left.keys()].filter((key) => JSON.stringify(left.get(key)) !== JSON.stringify(right.get(key))).sort();
  }

  for (const [label, options] of [
    ['s3 with keys and three replicas', { ...MINIO_WITH_KEYS, config: { ...MINIO_WITH_KEYS.config, replicas: 3 } }],
    ['gcs with a key file', { config: { storageDriver: 'gcs', objectStorageBucket: 'perch-images', gcsCredentialsJson: GCS_KEY_FILE }, secretKeys: ['gcsCredentialsJson'] }],
    ['azure with workload identity', { config: { ...AZURE, serviceAccountName: 'registry-wi', replicas: 2 } }],
  ] as Array<[string, RenderProgramOptions]>) {
    it(`${label}: no diff on rerun`, async () => {
      const first = await renderProgram(options);
      const second = await renderProgram(options);
      expect(changed(first, second)).toEqual([]);
      expect(second.outputs).toEqual(first.outputs);
    });
  }

  it("Pulumi.yaml's defaults mean the same as leaving the keys out, with object storage too", async () => {
    const withDefaults = await renderProgram({ config: { storageDriver: 's3', objectStorageBucket: 'b-1', s3Region: 'us-east-1' } });
    const without = await renderProgram({
      config: { storageDriver: 's3', objectStorageBucket: 'b-1', s3Region: 'us-east-1' },
      applyProjectDefaults: false,
    });
    expect(changed(without, withDefaults)).toEqual([]);
  });

  it('new S3 keys change their Secret and roll the Deployment; config.json stays', async () => {
    const before = await renderProgram(MINIO_WITH_KEYS);
    const after = await renderProgram({ ...MINIO_WITH_KEYS, config: { ...MINIO_WITH_KEYS.config, s3SecretAccessKey: 'rotated-secret-key' } });
    expect(changed(before, after)).toEqual([`${T.deployment} zot-registry-deployment`, `${T.secret} zot-registry-object-storage`]);
  });

  it('more replicas scale the Deployment and add the budget; nothing else changes', async () => {
    const before = await renderProgram({ config: MINIO });
    const after = await renderProgram({ config: { ...MINIO, replicas: 2 } });
    expect(after.all(T.pdb)).toHaveLength(1);
    const left = inputsByResource(before);
    const right = inputsByResource(after);
    const differing = [...left.keys()].filter((key) => JSON.stringify(left.get(key)) !== JSON.stringify(right.get(key)));
    expect(differing).toEqual([`${T.deployment} zot-registry-deployment`]);
    expect(deploymentSpec(after).template).toEqual(deploymentSpec(before).template);
  });

  it('the secret stack outputs stay the only secrets; no output carries a credential', async () => {
    const rendered = await renderProgram(MINIO_WITH_KEYS);
    for (const key of ['registryUrl', 'username', 'helmLoginCommand', 'healthCheckUrl', 'namespace', 'inClusterUrl'] as const) {
      expect(await pulumi.isSecret(pulumi.output(rendered.exports[key] as pulumi.Output<unknown>)), key).toBe(false);
    }
  });
});

describe('object storage: the storage guard', () => {
  const FILESYSTEM: StorageGuardInputs = {
    namespace: 'zot-registry',
    claim: 'zot-registry-data',
    storageSize: '10Gi',
    storageClass: '',
    namespaceOwned: true,
    allowDataLoss: false,
  };
  const BUCKET: StorageGuardInputs = {
    namespace: 'zot-registry',
    claim: '',
    storageSize: '',
    storageClass: '',
    namespaceOwned: true,
    objectStorage: 's3://registry/perch',
    allowDataLoss: false,
  };

  it('filesystem to a bucket deletes the claim without copying: refused, saying so and how to go back', async () => {
    const problem = storageLossProblem(FILESYSTEM, BUCKET)!;
    expect(problem).toContain('storageDriver changes from filesystem to object storage (s3://registry/perch)');
    expect(problem).toContain('nothing copies the images into the bucket');
    expect(problem).toContain('the PersistentVolumeClaim "zot-registry-data"');
    expect(problem).toContain('pulumi config set storageDriver filesystem');
    expect(problem).toContain('pulumi config set allowDataLoss true');
    expect(problem).not.toContain('storageSize changes');
    await expect(guardProvider.diff!('id', FILESYSTEM, BUCKET)).rejects.toThrow(/refusing to delete the stored images/);
    await expect(guardProvider.diff!('id', FILESYSTEM, { ...BUCKET, allowDataLoss: true })).resolves.toMatchObject({ changes: true });
  });

  it('a bucket back to the filesystem, to another namespace, or to another bucket deletes nothing', async () => {
    expect(storageLossProblem(BUCKET, FILESYSTEM)).toBeUndefined();
    expect(storageLossProblem(BUCKET, { ...BUCKET, namespace: 'registry' })).toBeUndefined();
    expect(storageLossProblem(BUCKET, { ...BUCKET, namespaceOwned: false })).toBeUndefined();
    expect(storageLossProblem(BUCKET, { ...BUCKET, objectStorage: 'gs://other' })).toBeUndefined();
    await expect(guardProvider.diff!('id', BUCKET, { ...BUCKET, objectStorage: 'gs://other' })).resolves.toMatchObject({ changes: true });
    await expect(guardProvider.diff!('id', BUCKET, { ...BUCKET })).resolves.toMatchObject({ changes: false });
    await expect(guardProvider.create(BUCKET)).resolves.toMatchObject({ id: 'zot-registry/s3://registry/perch' });
  });
});

describe('object storage: the stack config keys', () => {
  it('Pulumi.yaml declares each key with the type it is read as, and the component\'s defaults', () => {
    const declared = projectConfig();
    for (const [field, { key, type }] of Object.entries(OBJECT_STORAGE_KEYS)) {
      expect(declared[key], key).toBeDefined();
      expect(declared[key]!.type, key).toBe(type === 'boolean' ? 'boolean' : 'string');
      const fallback = (DEFAULTS.objectStorage as Record<string, unknown>)[field];
      expect(declared[key]!.default, key).toEqual(type === 'boolean' ? fallback : '');
    }
    expect(declared.storageDriver).toMatchObject({ type: 'string', default: DEFAULTS.storageDriver });
    expect(declared.replicas).toMatchObject({ type: 'integer', default: DEFAULTS.replicas });
    expect(declared.serviceAccountName).toMatchObject({ type: 'string', default: '' });
  });
});
