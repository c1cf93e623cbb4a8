/**
 * A throwaway home for registry clients. crane, oras, regctl, skopeo and helm all read and
 * write credentials and settings under HOME, DOCKER_CONFIG and the XDG folders; pointing those
 * at a fresh temp folder keeps a test's logins, `regctl registry set` entries and trust policy
 * out of the real user's config (and the real user's config out of the test).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ClientHome {
  dir: string;
  /** process.env with HOME, DOCKER_CONFIG, XDG_* and REGISTRY_AUTH_FILE moved into `dir`. */
  env: NodeJS.ProcessEnv;
  /** A containers-policy.json that accepts any image, for skopeo's `--policy`. */
  skopeoPolicy: string;
  /** A fresh folder inside `dir`. */
  folder(name: string): string;
  remove(): void;
}

export function makeClientHome(prefix = 'perch-client-'): ClientHome {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const sub = (name: string) => {
    const p = join(dir, name);
    mkdirSync(p, { recursive: true });
    return p;
  };
  const home = sub('home');
  const runtime = sub('run');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    DOCKER_CONFIG: sub('home/.docker'),
    XDG_CONFIG_HOME: sub('home/.config'),
    XDG_CACHE_HOME: sub('home/.cache'),
    XDG_DATA_HOME: sub('home/.local/share'),
    XDG_RUNTIME_DIR: runtime,
    // skopeo keeps logins here; crane and oras use DOCKER_CONFIG, helm XDG_CONFIG_HOME/helm.
    REGISTRY_AUTH_FILE: join(runtime, 'containers-auth.json'),
    // A proxy from the outer environment must not intercept loopback traffic.
    NO_PROXY: '127.0.0.0/8,localhost',
    no_proxy: '127.0.0.0/8,localhost',
  };
  // skopeo refuses to copy without a trust policy; the system one may not exist in CI images.
  const skopeoPolicy = join(dir, 'policy.json');
  writeFileSync(skopeoPolicy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  return {
    dir,
    env,
    skopeoPolicy,
    folder: sub,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A client home whose docker and helm registry configs hold `token` as the registry token for
 * `host` (`auths.<host>.registrytoken`): how a token from an OpenID provider reaches clients
 * that did not fetch it. crane sends it as the Bearer token under either challenge; oras and
 * helm (oras-go) use it when the registry challenges with Bearer.
 */
export function homeWithRegistryToken(host: string, token: string, prefix = 'perch-token-client-'): ClientHome {
  const home = makeClientHome(prefix);
  const auths = JSON.stringify({ auths: { [host]: { registrytoken: token } } });
  writeFileSync(join(home.env.DOCKER_CONFIG!, 'config.json'), auths);
  const helmRegistry = join(home.env.XDG_CONFIG_HOME!, 'helm', 'registry');
  mkdirSync(helmRegistry, { recursive: true });
  writeFileSync(join(helmRegistry, 'config.json'), auths);
  return home;
}
