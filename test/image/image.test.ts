/**
 * The registry image, end to end, the way a cluster would use it:
 *
 *   buildah bud -f registry-image/Dockerfile .      (base: a stand-in made from this machine's Node.js)
 *   skopeo copy ... docker://<perch on the host>/perch/perch:test    (the image stored in perch itself)
 *   ctr images pull --plain-http ...                (containerd, as a node's kubelet would)
 *   ctr run ...                                     (args, env, mounts, read-only root, limits of
 *                                                    the Deployment and Jobs the component renders)
 *
 * then the registry in the container answers its probes, passes the OCI conformance suite and
 * `helm pull`, the seed Jobs fill it (twice, the second time changing nothing), a broken config
 * stops it with a message naming the problem and a wrong Secret mount shows in /readyz.
 *
 * Needs root (containerd, runc); see docs/image.md. Run alone with scripts/test-image.sh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, startRegistry, type RunningRegistry } from '../helpers/registry';
import { imageNodeFlags } from '../bench/servers/image-node-flags';
import { runCommand } from '../helpers/run-command';
import { runConformance } from '../helpers/conformance';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { onCleanup, runCleanups } from './cleanup';
import { claimRunDir, recordProcess, RUN_DIR_PREFIX, sweepStaleRuns } from './stale-runs';
import { startContainerd, type Containerd, type DetachedContainer } from './containerd';
import { imageSuiteProblems } from './environment';
import { assertPortFree, serviceHostnames, writeHostsFile } from './host-network';
import { fetchImageConfig, numericUser, type PulledImage } from './image-config';
import { podTemplateOf, dataOf, findObject, type KubeObject, type PodSpec } from './kube-objects';
import { buildPerchImage, type BuiltImage } from './perch-image';
import { podRun, resolvePort, type PodRun } from './pod-run-spec';
import { probeOnce, waitForProbe } from './probes';
import { renderForImage, type RenderedRegistry } from './rendered-component';
import { swapAtomicWriterData } from './pod-volumes';
import bcrypt from 'bcryptjs';

const ARTIFACTS = join(REPO_ROOT, 'test/artifacts/image');
const REPOSITORY = 'perch/perch';
const TAG = 'test';
/** The four charts DESIGN.md "The seed charts" promises, as repository -> tag. */
const SEED_CHARTS = [
  ['roost-test/nginx-test', '1.0.0'],
  ['roost-test/nginx-test', '1.1.0'],
  ['roost-test/redis-test', '1.0.0'],
  ['roost-test/multi-chart', '1.0.0'],
] as const;

const timings: Record<string, number> = {};
async function timed<T>(name: string, step: () => Promise<T>): Promise<T> {
  const t = Date.now();
  try {
    return await step();
  } finally {
    timings[name] = Date.now() - t;
  }
}

// A failed beforeAll leaves its tests "skipped"; this test makes a machine that cannot run
// the suite (not root, a tool missing) count as a failure with the reason, never a skip.
it('runs on this machine: as root, with buildah, skopeo, containerd, ctr and runc', () => {
  expect(imageSuiteProblems()).toEqual([]);
});

describe('registry image: built by buildah, stored in perch, run by containerd as the component describes', () => {
  const suiteStart = Date.now();
  let dir: string;
  let hostRegistry: RunningRegistry;
  let built: BuiltImage;
  let containerd: Containerd;
  let imageRef: string;
  let pulled: PulledImage;

  beforeAll(async () => {
    const problems = imageSuiteProblems();
    if (problems.length > 0) throw new Error(`cannot run the image suite:\n- ${problems.join('\n- ')}`);
    const swept = sweepStaleRuns();
    if (swept.length > 0) console.log(`[image suite] removed what earlier, killed runs left: ${swept.join(', ')}`);
    dir = mkdtempSync(join(tmpdir(), RUN_DIR_PREFIX));
    claimRunDir(dir);
    // Registered first, so it runs last, after containerd and buildah have let go of it.
    onCleanup(`suite folder ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(ARTIFACTS, { recursive: true });

    hostRegistry = await timed('hostRegistry', () => startRegistry({ dataDir: join(dir, 'host-registry-data') }));
    recordProcess(dir, hostRegistry.process.pid);
    onCleanup('perch on the host', () => {
      if (hostRegistry.process.exitCode === null) hostRegistry.process.kill('SIGKILL');
    });
    built = await timed('build', () => buildPerchImage(join(dir, 'buildah')));
    Object.assign(timings, Object.fromEntries(Object.entries(built.timings).map(([k, v]) => [`build.${k}`, v])));
    writeFileSync(join(ARTIFACTS, 'buildah-build.log'), built.buildOutput);

    imageRef = `${hostRegistry.host}/${REPOSITORY}:${TAG}`;
    await timed('push', () => built.buildah.push(built.tag, imageRef));
    // The builder's store is not needed any more: free its disk space now (vfs keeps full copies).
    built.buildah.remove();

    containerd = await timed('containerdStart', () => startContainerd(join(dir, 'containerd')));
    await timed('pull', () => containerd.pull(imageRef));
    pulled = await fetchImageConfig(hostRegistry.url, REPOSITORY, TAG);
  }, 600_000);

  afterAll(async () => {
    runCleanups();
    await hostRegistry?.stop().catch(() => undefined);
    timings.total = Date.now() - suiteStart;
    const line = Object.entries(timings)
      .map(([k, v]) => `${k}=${(v / 1000).toFixed(1)}s`)
      .join(' ');
    console.log(`[image suite timings] ${line}`);
    if (existsSync(ARTIFACTS)) writeFileSync(join(ARTIFACTS, 'timings.json'), JSON.stringify(timings, null, 2));
  }, 120_000);

  describe('the image', () => {
    it('has the container interface zot\'s image has: USER 65532:65532, port 5000, node /app/perch.js serve /etc/zot/config.json', () => {
      const c = pulled.config;
      expect(numericUser(c.User)).toEqual({ uid: 65532, gid: 65532 });
      expect(Object.keys(c.ExposedPorts ?? {})).toEqual(['5000/tcp']);
      // The flags are the Dockerfile's, as the benchmark reads them (image-node-flags.ts).
      expect(c.Entrypoint).toEqual(['node', ...imageNodeFlags(REPO_ROOT), '/app/perch.js']);
      expect(imageNodeFlags(REPO_ROOT)).toContain('--initial-old-space-size=64');
      expect(c.Cmd).toEqual(['serve', '/etc/zot/config.json']);
    });

    it('is what containerd pulled from perch: the same manifest digest', async () => {
      const list = await containerd.ctr(['images', 'list']);
      const row = list.stdout.split('\n').find((l) => l.startsWith(`${imageRef} `));
      expect(pulled.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(row, list.stdout).toBeDefined();
      expect(row).toContain(pulled.digest);
    });

    it('holds only the bundle and the seed charts in /app (no sources, no node_modules) and a data folder owned by 65532', async () => {
      const script = [
        "const fs = require('fs');",
        "const st = fs.statSync('/var/lib/registry');",
        "console.log(JSON.stringify({ app: fs.readdirSync('/app').sort(), src: fs.existsSync('/src'),",
        "  charts: fs.readdirSync('/app/charts').sort(),",
        "  data: { uid: st.uid, gid: st.gid, dir: st.isDirectory() }, uid: process.getuid(), gid: process.getgid() }));",
      ].join(' ');
      const r = await containerd.runToExit(
        { image: imageRef, id: 'inspect-files', argv: ['node', '-e', script], readOnlyRootfs: true },
        60_000,
      );
      expect(r.code, r.stderr).toBe(0);
      const seen = JSON.parse(r.stdout.trim());
      expect(seen.app).toEqual(['charts', 'perch.js']);
      expect(seen.charts).toEqual(['multi-chart', 'nginx-test', 'redis-test']);
      expect(seen.src).toBe(false);
      expect(seen.data).toEqual({ uid: 65532, gid: 65532, dir: true });
      expect({ uid: seen.uid, gid: seen.gid }).toEqual({ uid: 65532, gid: 65532 });
    });

    it('runs perch --help through its ENTRYPOINT', async () => {
      const r = await containerd.runToExit(
        { image: imageRef, id: 'help', argv: [...pulled.config.Entrypoint!, '--help'], readOnlyRootfs: true },
        60_000,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/usage: perch/);
      expect(r.stdout).toMatch(/\bserve\b/);
      expect(r.stdout).toMatch(/\bseed\b/);
    });

    it('serves with its default CMD and built-in config, in its own network namespace', async () => {
      // Not on the host's network: the container's port 5000 does not touch the host's. A second process
      // inside the container (like kubectl exec) checks the probes and writes a blob.
      const container = await containerd.start({ image: imageRef, id: 'default-cmd', argv: defaultArgv(pulled) });
      try {
        const check = [
          'const get = (p, o) => fetch("http://127.0.0.1:5000" + p, o).then((r) => r.status);',
          '(async () => {',
          '  for (let i = 0; i < 100; i++) { try { await get("/livez"); break; } catch { await new Promise((r) => setTimeout(r, 100)); } }',
          '  const out = { livez: await get("/livez"), readyz: await get("/readyz"), v2: await get("/v2/") };',
          '  out.upload = await get("/v2/probe/blobs/uploads/?digest=sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", { method: "POST", body: "foo" });',
          '  console.log(JSON.stringify(out));',
          '})();',
        ].join('\n');
        const r = await container.exec(['node', '-e', check], 60_000);
        expect(r.code, `${r.stderr}\n${container.logs()}`).toBe(0);
        expect(JSON.parse(r.stdout.trim())).toEqual({ livez: 200, readyz: 200, v2: 200, upload: 201 });
      } finally {
        expect(await container.stop(), container.logs()).toBe(0);
      }
      expect(container.logs()).toMatch(/"message":"listening"/);
    });
  });

  describe('as the component\'s Deployment and Jobs describe it', () => {
    let rendered: RenderedRegistry;
    let registryRun: PodRun;
    let registry: DetachedContainer;
    let dataDir: string;
    let hostsFile: string;
    let client: ClientHome;
    let auth: string;
    const registryUrl = () => `http://127.0.0.1:${registryPort()}`;
    const registryPort = () => resolvePort(registryRun.container, registryRun.container.ports?.[0]?.containerPort ?? 5000);

    beforeAll(async () => {
      if (!pulled) return; // the outer beforeAll failed and said why
      rendered = await timed('render', () => renderForImage(imageRef));
      client = makeClientHome('perch-image-helm-');
      onCleanup('helm home', () => client.remove());
      auth = `Basic ${Buffer.from(`${rendered.username}:${rendered.password}`).toString('base64')}`;
      dataDir = join(dir, 'pvc-data');
      hostsFile = join(dir, 'hosts');
      writeHostsFile(hostsFile, serviceHostnames(rendered.service.metadata.name, rendered.namespace));
      registryRun = deploymentRun(rendered, 'registry');
      await assertPortFree(registryPort());
      registry = await timed('registryStart', () => containerd.start(registryRun.spec));
      await timed('registryStartupProbe', () =>
        waitForProbe(registryRun.container, registryRun.probes.startup!, registry.running, registry.logs),
      );
    }, 180_000);

    afterAll(async () => {
      if (registry) {
        writeFileSync(join(ARTIFACTS, 'registry-container.log'), registry.logs());
        if (await registry.running()) await registry.stop();
      }
    }, 60_000);

    /** ctr run of the Deployment's registry container: PVC -> dataDir, /etc/hosts names the Service. */
    function deploymentRun(r: RenderedRegistry, id: string, edit?: (pod: PodSpec) => PodSpec): PodRun {
      const pod = edit ? edit(structuredClone(podTemplateOf(r.deployment))) : podTemplateOf(r.deployment);
      const claim = pod.volumes?.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName;
      return podRun(pod, {
        id,
        image: pod.containers[0]!.image,
        imageConfig: pulled.config,
        namespace: r.namespace,
        volumes: { dir: join(dir, 'volumes', id), claims: claim ? { [claim]: dataDir } : {}, objects: r.objects },
        extraMounts: [{ source: hostsFile, destination: '/etc/hosts', readOnly: true }],
      });
    }

    it('runs the image the component names, with args only (the image\'s ENTRYPOINT stays)', () => {
      expect(registryRun.container.image).toBe(imageRef);
      expect(registryRun.container.command).toBeUndefined();
      expect(registryRun.spec.argv).toEqual([...pulled.config.Entrypoint!, ...registryRun.container.args!]);
    });

    it('runs as the image\'s USER, which is the Pod\'s runAsUser, runAsGroup and fsGroup', () => {
      // ctr cannot choose a user: the container runs as the image's USER, so they must agree.
      const pod = podTemplateOf(rendered.deployment);
      const user = numericUser(pulled.config.User);
      expect(registryRun.runAsUser).toBe(user.uid);
      expect(registryRun.runAsGroup).toBe(user.gid);
      expect(pod.securityContext?.fsGroup).toBe(user.gid);
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
    });

    it('answers its startup, readiness and liveness probes without credentials', async () => {
      for (const probe of [registryRun.probes.startup, registryRun.probes.readiness, registryRun.probes.liveness]) {
        expect(probe, 'the Deployment defines all three probes').toBeDefined();
        const r = await probeOnce(registryRun.container, probe!);
        expect(r, registry.logs()).toMatchObject({ ok: true, status: 200 });
      }
      const unauthenticated = await fetch(`${registryUrl()}/v2/`);
      expect(unauthenticated.status).toBe(401);
    });

    it('keeps its root filesystem read-only and writes only to its volumes', async () => {
      const r = await registry.exec(['node', '-e', "try { require('fs').writeFileSync('/app/x', 'x'); console.log('wrote'); } catch (e) { console.log(e.code); }"]);
      expect(r.stdout.trim()).toBe('EROFS');
      const tmp = await registry.exec(['node', '-e', "require('fs').writeFileSync('/tmp/x', 'x'); console.log('ok')"]);
      expect(tmp.stdout.trim()).toBe('ok');
    });

    it('is filled with the four seed charts by the seed Jobs', async () => {
      expect(rendered.jobs.map((j) => seedChartOf(j))).toEqual(
        expect.arrayContaining(SEED_CHARTS.map(([repo, tag]) => `${repo.split('/')[1]}@${tag}`)),
      );
      await timed('seedFirst', () => runSeedJobs('seed1'));
      for (const [repo, tag] of SEED_CHARTS) {
        const res = await fetch(`${registryUrl()}/v2/${repo}/tags/list`, { headers: { Authorization: auth } });
        expect(res.status, `${repo}: ${await res.clone().text()}`).toBe(200);
        expect(((await res.json()) as { tags: string[] }).tags).toContain(tag);
      }
    }, 300_000);

    it('is left unchanged by running the seed Jobs again: same digests, no write requests', async () => {
      const before = await tagDigests();
      const logOffset = registry.logs().length;
      await timed('seedSecond', () => runSeedJobs('seed2'));
      expect(await tagDigests()).toEqual(before);
      const writes = requestLines(registry.logs().slice(logOffset)).filter((l) => ['PUT', 'POST', 'PATCH', 'DELETE'].includes(l.method));
      expect(writes, 'the second seed run should only read').toEqual([]);
      expect(requestLines(registry.logs().slice(logOffset)).length, 'the second run did talk to the registry').toBeGreaterThan(0);
    }, 300_000);

    it('serves a seeded chart to helm pull', async () => {
      const out = client.folder('charts');
      const helm = 'helm3';
      await runCommand(helm, ['registry', 'login', `127.0.0.1:${registryPort()}`, '--username', rendered.username, '--password-stdin', '--insecure'], {
        env: client.env,
        input: rendered.password,
      });
      await runCommand(helm, ['pull', `oci://127.0.0.1:${registryPort()}/roost-test/nginx-test`, '--version', '1.0.0', '--plain-http', '--destination', out], {
        env: client.env,
      });
      expect(readdirSync(out)).toEqual(['nginx-test-1.0.0.tgz']);
      expect(statSync(join(out, 'nginx-test-1.0.0.tgz')).size).toBeGreaterThan(100);
    }, 120_000);

    it('passes the OCI conformance suite', async () => {
      const run = await timed('conformance', () =>
        runConformance({
          registryHost: `127.0.0.1:${registryPort()}`,
          username: rendered.username,
          password: rendered.password,
          runName: 'image-container',
        }),
      );
      console.log(run.summary);
      expect(run.cases.length, run.summary).toBeGreaterThan(100);
      expect({ failed: run.counts.failure, errors: run.counts.error, skipped: run.counts.skipped }, run.summary).toEqual({
        failed: 0,
        errors: 0,
        skipped: 0,
      });
    }, 240_000);

    it('picks up an htpasswd Secret update the way the kubelet delivers it (..data swapped), without a restart', async () => {
      const secretMount = registryRun.spec.mounts!.find((m) => m.destination === '/secret');
      expect(secretMount, 'the Secret is mounted as the /secret directory').toBeDefined();
      const volume = podTemplateOf(rendered.deployment).volumes!.find((v) => v.secret || v.projected)!;
      const mode = volume.secret?.defaultMode ?? volume.projected?.defaultMode ?? 0o644;
      const htpasswd = dataOf(findObject(rendered.objects, 'Secret', volume.secret!.secretName)!).htpasswd!;
      const added = `${htpasswd.trimEnd()}\nrotated-user:${bcrypt.hashSync('rotated-password', 10)}\n`;
      const rotated = `Basic ${Buffer.from('rotated-user:rotated-password').toString('base64')}`;
      expect((await fetch(`${registryUrl()}/v2/`, { headers: { Authorization: rotated } })).status).toBe(401);
      swapAtomicWriterData(secretMount!.source, [{ path: 'htpasswd', content: added, mode }], podTemplateOf(rendered.deployment).securityContext?.fsGroup);
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = (await fetch(`${registryUrl()}/v2/`, { headers: { Authorization: rotated } })).status;
      }
      expect(status, registry.logs()).toBe(200);
      expect((await fetch(`${registryUrl()}/v2/`, { headers: { Authorization: auth } })).status).toBe(200);
      expect(await registry.running()).toBe(true);
    }, 60_000);

    it('stops on SIGTERM within the Pod\'s grace period with exit code 0', async () => {
      const t = Date.now();
      const code = await registry.stop(30_000);
      expect(code, registry.logs()).toBe(0);
      expect(Date.now() - t).toBeLessThan(30_000);
    }, 60_000);

    it('exits non-zero with a log line naming the problem when its config is broken', async () => {
      const broken = brokenConfig(rendered);
      const run = deploymentRun(broken, 'broken-config');
      const r = await containerd.runToExit(run.spec, 60_000);
      expect(r.code, r.stdout + r.stderr).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/storage\.rootDirectry|rootDirectry/);
    }, 90_000);

    it('reports a wrong htpasswd mount in /readyz and its log', async () => {
      // The Secret mounted one folder off (/secrets instead of /secret): the config's
      // /secret/htpasswd does not exist. The process must stay alive (liveness) but not ready.
      const run = deploymentRun(rendered, 'wrong-secret-mount', (pod) => {
        const mount = pod.containers[0]!.volumeMounts!.find((m) => m.mountPath === '/secret')!;
        mount.mountPath = '/secrets';
        return pod;
      });
      await assertPortFree(registryPort());
      const c = await containerd.start(run.spec);
      try {
        await waitForProbe(run.container, run.probes.startup!, c.running, c.logs);
        const ready = await probeOnce(run.container, run.probes.readiness!);
        expect(ready.status, c.logs()).toBe(503);
        expect(ready.body).toMatch(/\/secret\/htpasswd/);
        expect((await probeOnce(run.container, run.probes.liveness!)).status).toBe(200);
        expect(c.logs()).toMatch(/\/secret\/htpasswd/);
      } finally {
        writeFileSync(join(ARTIFACTS, 'wrong-secret-mount.log'), c.logs());
        await c.stop();
      }
    }, 120_000);

    /**
     * Runs every seed Job's container as the cluster would: the component chains the Jobs
     * (each dependsOn the one before, and Pulumi waits for a Job to complete), so they run one
     * after another in the order rendered, each retried up to its backoffLimit.
     */
    async function runSeedJobs(round: string): Promise<void> {
      const logs: string[] = [];
      try {
        for (const [i, job] of rendered.jobs.entries()) {
          const backoffLimit = (job.spec as { backoffLimit?: number }).backoffLimit ?? 6;
          let ok = false;
          for (let attempt = 0; attempt <= backoffLimit && !ok; attempt++) {
            if (containerd.stopped) throw new Error('the suite ended (timed out?) while the seed Jobs ran');
            const pod = podTemplateOf(job);
            const id = `${round}-${i}-${attempt}`;
            const run = podRun(pod, {
              id,
              image: pod.containers[0]!.image,
              imageConfig: pulled.config,
              namespace: rendered.namespace,
              volumes: { dir: join(dir, 'volumes', id), claims: {}, objects: rendered.objects },
              extraMounts: [{ source: hostsFile, destination: '/etc/hosts', readOnly: true }],
            });
            const started = Date.now();
            const r = await containerd.runToExit(run.spec, 120_000);
            logs.push(`--- ${job.metadata.name} attempt ${attempt + 1}: exit ${r.code} after ${Date.now() - started} ms\n${r.stdout}${r.stderr}`);
            ok = r.code === 0;
          }
          expect(ok, `Job ${job.metadata.name} failed ${backoffLimit + 1} times:\n${logs.join('\n')}`).toBe(true);
        }
      } finally {
        writeFileSync(join(ARTIFACTS, `${round}.log`), logs.join('\n'));
      }
    }

    async function tagDigests(): Promise<Record<string, string>> {
      const out: Record<string, string> = {};
      for (const [repo, tag] of SEED_CHARTS) {
        const res = await fetch(`${registryUrl()}/v2/${repo}/manifests/${tag}`, {
          method: 'HEAD',
          headers: { Authorization: auth, Accept: 'application/vnd.oci.image.manifest.v1+json' },
        });
        expect(res.status).toBe(200);
        out[`${repo}:${tag}`] = res.headers.get('docker-content-digest') ?? '';
      }
      return out;
    }
  });
});

function defaultArgv(image: PulledImage): string[] {
  return [...(image.config.Entrypoint ?? []), ...(image.config.Cmd ?? [])];
}

/** "--chart nginx-test@1.0.0" in a Job's args -> "nginx-test@1.0.0". */
function seedChartOf(job: KubeObject): string | undefined {
  const args = podTemplateOf(job).containers[0]?.args ?? [];
  const i = args.indexOf('--chart');
  return i >= 0 ? args[i + 1] : undefined;
}

interface RequestLine {
  method: string;
  path: string;
  status: number;
}

/** The registry's JSON request log lines ({"message":"request","method":...}). */
function requestLines(log: string): RequestLine[] {
  const out: RequestLine[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes('"message":"request"')) continue;
    try {
      const entry = JSON.parse(line) as RequestLine;
      out.push({ method: entry.method, path: entry.path, status: entry.status });
    } catch {
      /* not JSON: not a request line */
    }
  }
  return out;
}

/** The rendered objects with the ConfigMap's config.json given a misspelt storage key. */
function brokenConfig(r: RenderedRegistry): RenderedRegistry {
  const pod = podTemplateOf(r.deployment);
  const configMapName = pod.volumes!.find((v) => v.configMap)!.configMap!.name;
  const objects = r.objects.map((o) => {
    if (o.kind !== 'ConfigMap' || o.metadata.name !== configMapName) return o;
    const data = dataOf(o);
    const config = JSON.parse(data['config.json']!) as { storage: Record<string, unknown> };
    config.storage = { rootDirectry: config.storage.rootDirectory };
    return { ...o, data: { ...data, 'config.json': JSON.stringify(config) } };
  });
  if (!findObject(objects, 'ConfigMap', configMapName)) throw new Error(`the component rendered no ConfigMap ${configMapName}`);
  return { ...r, objects };
}
