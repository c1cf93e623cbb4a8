/**
 * Host folders for a Pod's volumes, laid out the way the kubelet lays them out, so the
 * container meets what it would meet on a node:
 *
 * - Secret, ConfigMap and projected volumes are written by the kubelet's "atomic writer":
 *   the files live in a hidden timestamped folder, `..data` is a symlink to it, and each
 *   top-level name is a symlink through `..data`. An update writes a new folder and swaps
 *   `..data`, which is why the registry polls the file's stat instead of watching it
 *   (DESIGN.md "Container interface"). `swapAtomicWriterData` does that swap for tests.
 * - With `fsGroup`, the kubelet gives every volume file that group and adds group read (and
 *   write, for writable volumes) to its mode; folders get setgid (pkg/volume/volume_linux.go,
 *   SetVolumeOwnership). Secret, ConfigMap and projected volumes are always mounted read-only.
 * - emptyDir is a fresh 0777 folder; a PVC is a folder that outlives the container (the caller
 *   names it, so a second container sees the first one's data).
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BindMount } from './containerd';
import { dataOf, findObject, type KeyToPath, type KubeObject, type PodSpec, type VolumeMount } from './kube-objects';

export interface VolumeHosts {
  /** Folder under which Secret, ConfigMap and emptyDir volumes are made. */
  dir: string;
  /** PVC claim name -> host folder. */
  claims: Record<string, string>;
  /** The ConfigMaps and Secrets the Pod refers to. */
  objects: readonly KubeObject[];
}

const DEFAULT_MODE = 0o644; // the API server's default for Secret/ConfigMap volume files

export function volumeMounts(pod: PodSpec, mounts: readonly VolumeMount[], hosts: VolumeHosts): BindMount[] {
  const fsGroup = pod.securityContext?.fsGroup;
  const made = new Map<string, { path: string; readOnly: boolean }>();
  const hostFor = (name: string) => {
    const known = made.get(name);
    if (known) return known;
    const volume = pod.volumes?.find((v) => v.name === name);
    if (!volume) throw new Error(`volumeMount "${name}" names no volume of the Pod`);
    const path = join(hosts.dir, name);
    let readOnly = false;
    if (volume.secret || volume.configMap || volume.projected) {
      readOnly = true;
      const files = projectedFiles(volume, hosts.objects);
      writeAtomicWriterFolder(path, files);
    } else if (volume.emptyDir) {
      mkdirSync(path, { recursive: true });
      chmodSync(path, 0o777);
    } else if (volume.persistentVolumeClaim) {
      const claim = volume.persistentVolumeClaim.claimName;
      const host = hosts.claims[claim];
      if (!host) throw new Error(`the test has no host folder for PVC "${claim}"`);
      mkdirSync(host, { recursive: true });
      readOnly = volume.persistentVolumeClaim.readOnly === true;
      made.set(name, { path: host, readOnly });
      if (fsGroup !== undefined) applyFsGroup(host, fsGroup, readOnly);
      return made.get(name)!;
    } else {
      throw new Error(`volume "${name}" is of a kind this test cannot give a container yet: ${JSON.stringify(volume)}`);
    }
    if (fsGroup !== undefined) applyFsGroup(path, fsGroup, readOnly);
    made.set(name, { path, readOnly });
    return made.get(name)!;
  };
  return mounts.map((m) => {
    const host = hostFor(m.name);
    return {
      source: m.subPath ? join(host.path, m.subPath) : host.path,
      destination: m.mountPath,
      readOnly: host.readOnly || m.readOnly === true,
    };
  });
}

interface ProjectedFile {
  path: string;
  content: string;
  mode: number;
}

function projectedFiles(volume: NonNullable<PodSpec['volumes']>[number], objects: readonly KubeObject[]): ProjectedFile[] {
  const pick = (kind: string, name: string, items: KeyToPath[] | undefined, optional: boolean | undefined, mode: number) => {
    const object = findObject(objects, kind, name);
    if (!object) {
      if (optional) return [];
      throw new Error(`volume "${volume.name}" needs ${kind} "${name}", which the component did not render`);
    }
    const data = dataOf(object);
    const chosen: KeyToPath[] = items ?? Object.keys(data).map((key) => ({ key, path: key }));
    return chosen.map((item) => {
      if (!(item.key in data)) throw new Error(`${kind} "${name}" has no key "${item.key}" (volume "${volume.name}")`);
      return { path: item.path, content: data[item.key]!, mode: item.mode ?? mode };
    });
  };
  if (volume.secret) {
    const s = volume.secret;
    return pick('Secret', s.secretName, s.items, s.optional, s.defaultMode ?? DEFAULT_MODE);
  }
  if (volume.configMap) {
    const c = volume.configMap;
    return pick('ConfigMap', c.name, c.items, c.optional, c.defaultMode ?? DEFAULT_MODE);
  }
  const mode = volume.projected!.defaultMode ?? DEFAULT_MODE;
  return volume.projected!.sources.flatMap((source) => {
    if (source.secret) return pick('Secret', source.secret.name, source.secret.items, source.secret.optional, mode);
    if (source.configMap) return pick('ConfigMap', source.configMap.name, source.configMap.items, source.configMap.optional, mode);
    throw new Error(`projected volume "${volume.name}" has a source this test cannot make: ${JSON.stringify(source)}`);
  });
}

/** Writes files the kubelet's way: ..<stamp>/ holds them, ..data points there, names point through ..data. */
export function writeAtomicWriterFolder(dir: string, files: readonly ProjectedFile[]): void {
  mkdirSync(dir, { recursive: true });
  const stamp = writeDataFolder(dir, files);
  symlinkSync(stamp, join(dir, '..data'));
  for (const top of new Set(files.map((f) => f.path.split('/')[0]!))) {
    symlinkSync(join('..data', top), join(dir, top));
  }
}

/**
 * Replaces the files as the kubelet does when the Secret changes: a new timestamped folder,
 * then `..data` swapped to it by rename (atomic), then the old folder removed.
 */
export function swapAtomicWriterData(dir: string, files: readonly ProjectedFile[], fsGroup?: number): void {
  const old = readdirSync(dir).filter((n) => n.startsWith('..') && n !== '..data');
  const stamp = writeDataFolder(dir, files);
  if (fsGroup !== undefined) applyFsGroup(join(dir, stamp), fsGroup, true);
  symlinkSync(stamp, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of old) rmSync(join(dir, name), { recursive: true, force: true });
}

let stampCounter = 0;

function writeDataFolder(dir: string, files: readonly ProjectedFile[]): string {
  const stamp = `..${new Date().toISOString().replace(/[-:T]/g, '_').replace(/\..*$/, '')}.${process.pid}${stampCounter++}`;
  for (const file of files) {
    const path = join(dir, stamp, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
    chmodSync(path, file.mode);
  }
  mkdirSync(join(dir, stamp), { recursive: true });
  return stamp;
}

/** kubelet's SetVolumeOwnership: group fsGroup, g+r (g+rw when writable), setgid and g+x on folders; symlinks untouched. */
export function applyFsGroup(path: string, fsGroup: number, readOnly: boolean): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  chownSync(path, stat.uid, fsGroup);
  let mask = readOnly ? 0o440 : 0o660;
  if (stat.isDirectory()) mask |= 0o2000 | 0o110;
  chmodSync(path, (stat.mode & 0o7777) | mask);
  if (stat.isDirectory()) for (const name of readdirSync(path)) applyFsGroup(join(path, name), fsGroup, readOnly);
}
