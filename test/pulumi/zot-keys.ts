/**
 * The part of zot's config key tree our config.json may use, written down from zot v2.1.20
 * (tag v2.1.20, commit 3b5796d8), pkg/api/config/config.go: Config (line 797), HTTPConfig
 * (416), AuthConfig (118), AuthHTPasswd (114), AccessControlConfig (548), PolicyGroup (726),
 * GlobalStorageConfig/StorageConfig (534/29), LogConfig (528). zot loads config.json with
 * viper's UnmarshalExact (pkg/cli/server/root.go) and refuses any key not in these structs;
 * viper matches keys without regard to case, so they are kept lower-cased here.
 *
 * `*` stands for a map key chosen by the user (a repository glob); `true` ends a path.
 */
export type KeyTree = { [key: string]: KeyTree | true };

export const ZOT_V2_1_20_KEYS: KeyTree = {
  distspecversion: true,
  http: {
    address: true,
    externalurl: true,
    port: true,
    realm: true,
    auth: { faildelay: true, htpasswd: { path: true } },
    accesscontrol: {
      repositories: { '*': { policies: true, defaultpolicy: true, anonymouspolicy: true } },
      adminpolicy: true,
      groups: true,
      metrics: true,
    },
  },
  // storageDriver is a free-form map zot hands to its driver (StorageConfig.StorageDriver).
  storage: { rootdirectory: true, dedupe: true, gc: true, commit: true, storagedriver: true },
  log: { level: true, output: true, audit: true },
};

/** Every key path in `value` that the tree does not have, e.g. ["perch", "http.foo"]. */
export function keysOutside(tree: KeyTree, value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const unknown: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const node = tree[key.toLowerCase()] ?? tree['*'];
    if (node === undefined) unknown.push(path);
    else if (node !== true) unknown.push(...keysOutside(node, child, path));
  }
  return unknown;
}
