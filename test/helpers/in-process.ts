/**
 * The registry in this process, on an ephemeral loopback port, with injected parts
 * (a MemoryStore or FsStore, an allow-all or real Auth). For fast route tests.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import type { Auth } from '../../registry-image/src/auth/types';
import type { PerchConfig } from '../../registry-image/src/config/types';
import type { RegistryHooks } from '../../registry-image/src/http/hooks';
import { silentLogger, type Logger } from '../../registry-image/src/log';
import { refuseConnect, RegistryResponse, writeClientError } from '../../registry-image/src/http/respond';
import { createRegistry } from '../../registry-image/src/server';
import type { Store } from '../../registry-image/src/storage/types';

/** Lets everyone do everything: the behaviour of a registry with no auth configured. */
export const allowAll: Auth = {
  authenticate: async () => ({ username: null, groups: [] }),
  authorize: () => {},
  canRead: () => true,
  handleToken: async (_req, res) => {
    res.writeHead(404).end();
  },
  readiness: () => ({ ok: true }),
  routes: [],
  close: () => {},
};

export function testConfig(rootDirectory = '/nonexistent'): PerchConfig {
  return {
    distSpecVersion: '1.1.1',
    http: { address: '127.0.0.1', port: 0, compat: [], readTimeoutMs: 60_000, writeTimeoutMs: 60_000 },
    storage: { rootDirectory, commit: false, dedupe: true, gc: false, gcDelayMs: 3_600_000, gcIntervalMs: 3_600_000, maxRepos: 0 },
    log: { level: 'error' },
    extensions: {},
    perch: { auth: { challenge: 'basic', tokenKeyFile: '/nonexistent/token.key', tokenKeyFileSet: true, tokenTTLSeconds: 300 }, uploadTTLMs: 86_400_000, quota: { repositoryBytes: 0, totalBytes: 0 } },
  };
}

export interface InProcessRegistry {
  url: string;
  close(): Promise<void>;
}

export async function startInProcess(store: Store, auth: Auth = allowAll, config: PerchConfig = testConfig(), hooks: RegistryHooks = {}, log: Logger = silentLogger): Promise<InProcessRegistry> {
  await store.init();
  const registry = createRegistry({ config, store, auth, log }, hooks);
  // Served as perch serves it (startRegistry): with the registry's response class, and requests
  // Node's parser refuses, or hands to 'connect', answered with an OCI error body.
  const server = createServer({ ServerResponse: RegistryResponse }, registry.handle);
  server.on('clientError', writeClientError);
  server.on('connect', refuseConnect);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
