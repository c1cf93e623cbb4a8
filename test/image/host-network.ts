/**
 * What stands in for the cluster network when containers share the host's network
 * (`ctr run --with-ns network:/proc/<pid>/ns/net`): the Service's DNS names resolve to 127.0.0.1 through an /etc/hosts
 * the container gets bind-mounted (the kubelet mounts its own /etc/hosts in every Pod too),
 * and the registry's fixed port 5000 must be free on the host.
 */
import { createConnection } from 'node:net';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/** The names a Pod may use for a Service: short, with namespace, with svc, fully qualified. */
export function serviceHostnames(service: string, namespace: string, clusterDomain = 'cluster.local'): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.${clusterDomain}`];
}

export function writeHostsFile(path: string, names: readonly string[]): void {
  writeFileSync(
    path,
    ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `127.0.0.1\t${names.join(' ')}`, ''].join('\n'),
  );
}

/** Resolves when nothing accepts connections on 127.0.0.1:port; otherwise names who holds it. */
export async function assertPortFree(port: number): Promise<void> {
  const taken = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  if (!taken) return;
  let holder = '';
  try {
    holder = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' }).trim();
  } catch {
    /* ss missing: the message below still says what to do */
  }
  throw new Error(
    `port ${port} is already in use on this machine${holder ? ` (${holder})` : ''}. The registry container listens on ` +
      `${port} with host networking, as the Pod spec says; stop what holds it (Debian's docker-registry service ` +
      `does: systemctl stop docker-registry, or scripts/install-tools.sh apt) and run again.`,
  );
}
