/**
 * The container interface perch shares with zot's image (DESIGN.md "Decisions already made":
 * container interface). Every path and number the Pod spec, the config.json and the tests
 * agree on lives here, so upstream zot's image runs in the same Pod spec.
 */

/** The port the registry listens on inside the container (zot's image and perch's). */
export const REGISTRY_PORT = 5000;

/** The image's numeric USER; runAsUser, runAsGroup and fsGroup match it. */
export const REGISTRY_UID = 65532;

/** The ConfigMap is mounted as a directory here (never subPath, so updates arrive). */
export const CONFIG_DIR = '/etc/zot';
export const CONFIG_FILE = 'config.json';
export const CONFIG_PATH = `${CONFIG_DIR}/${CONFIG_FILE}`;

/**
 * The htpasswd Secret (and, in token mode, the token key beside it) is mounted as a directory
 * here: kubelet swaps a symlink when the Secret changes, which a subPath mount never sees.
 */
export const SECRET_DIR = '/secret';
export const HTPASSWD_FILE = 'htpasswd';
export const HTPASSWD_PATH = `${SECRET_DIR}/${HTPASSWD_FILE}`;
export const TOKEN_KEY_FILE = 'token.key';
export const TOKEN_KEY_PATH = `${SECRET_DIR}/${TOKEN_KEY_FILE}`;

/**
 * storage.rootDirectory: the PVC. Upload sessions live here too (same filesystem). With object
 * storage (storage.storageDriver) it is only the registry's local scratch folder, an emptyDir.
 */
export const DATA_DIR = '/var/lib/registry';

/**
 * Object storage credentials that are files (GCS's service-account key): their Secret is
 * mounted here as a directory, beside and not inside /secret (a read-only Secret volume).
 */
export const STORAGE_CREDENTIALS_DIR = '/storage-credentials';
export const GCS_CREDENTIALS_FILE = 'gcs-credentials.json';
export const GCS_CREDENTIALS_PATH = `${STORAGE_CREDENTIALS_DIR}/${GCS_CREDENTIALS_FILE}`;

/** The only other writable path; the root filesystem is read-only. */
export const TMP_DIR = '/tmp';

/** Health endpoints, all served without credentials. */
export const HEALTH_PATHS = { startup: '/startupz', readiness: '/readyz', liveness: '/livez' } as const;

/** The image's CMD, set as `args` (never `command`) so the image's own ENTRYPOINT stays. */
export const SERVE_ARGS = ['serve', CONFIG_PATH] as const;
