/**
 * Invalid configuration stops the program while it runs, before any resource is created,
 * with a message naming the key, what was wrong and what is allowed.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../components/config-error';
import { htpasswdLine } from '../../components/htpasswd';
import { renderProgram, type RenderProgramOptions } from './render';

async function failure(options: RenderProgramOptions): Promise<Error> {
  try {
    await renderProgram(options);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`the program accepted ${JSON.stringify(options.config)}`);
}

const cases: Array<{ label: string; options: RenderProgramOptions; key: string; says: RegExp[] }> = [
  {
    label: 'unknown service type',
    options: { config: { serviceType: 'Ingress' } },
    key: 'serviceType',
    says: [/"Ingress" is not allowed/, /LoadBalancer, NodePort, ClusterIP/],
  },
  {
    label: 'malformed storage size',
    options: { config: { storageSize: '10 GB' } },
    key: 'storageSize',
    says: [/"10 GB" is not a Kubernetes size/, /10Gi/],
  },
  {
    label: 'zero storage size',
    options: { config: { storageSize: '0Gi' } },
    key: 'storageSize',
    says: [/positive number/],
  },
  {
    label: 'user name with a colon',
    options: { config: { username: 'roost:test' } },
    key: 'username',
    says: [/contains ':'/, /without ':'/],
  },
  {
    label: 'port out of range',
    options: { config: { port: 70000 } },
    key: 'port',
    says: [/70000 is out of range/, /1 to 65535/],
  },
  {
    label: 'port zero',
    options: { config: { port: 0 } },
    key: 'port',
    says: [/out of range/],
  },
  {
    label: 'NodePort without externalHost',
    options: { config: { serviceType: 'NodePort' } },
    key: 'externalHost',
    says: [/required with serviceType NodePort/, /pulumi config set externalHost/],
  },
  {
    label: 'node port outside the node-port range',
    options: { config: { serviceType: 'NodePort', externalHost: '10.0.0.106', nodePort: 8080 } },
    key: 'nodePort',
    says: [/30000 to 32767/],
  },
  {
    label: 'node port with ClusterIP',
    options: { config: { serviceType: 'ClusterIP', nodePort: 30500 } },
    key: 'nodePort',
    says: [/ClusterIP, which has no node port/],
  },
  {
    label: 'unknown auth mode',
    options: { config: { authMode: 'oidc' } },
    key: 'authMode',
    says: [/basic, token/],
  },
  {
    label: 'token mode with upstream zot',
    options: { config: { authMode: 'token', registryImage: 'ghcr.io/project-zot/zot:v2.1.20' } },
    key: 'authMode',
    says: [/token mode needs perch/, /authMode basic/],
  },
  {
    label: 'registry image on latest',
    options: { config: { registryImage: 'ghcr.io/project-zot/zot:latest' } },
    key: 'registryImage',
    says: [/not pinned/, /never latest/],
  },
  {
    label: 'seed image without a tag',
    options: { config: { seedImage: 'perch' } },
    key: 'seedImage',
    says: [/not pinned/],
  },
  {
    label: 'namespace that is not a DNS label',
    options: { config: { namespace: 'Zot_Registry' } },
    key: 'namespace',
    says: [/not a valid Kubernetes name/],
  },
  {
    label: 'boolean that is not one',
    options: { config: { anonymousRead: 'yes' } },
    key: 'anonymousRead',
    says: [/true or false/],
  },
  {
    label: 'externalHost given as a URL',
    options: { config: { externalHost: 'http://10.0.0.106:5000' } },
    key: 'externalHost',
    says: [/without http:\/\//],
  },
  {
    label: 'CPU request above its limit',
    options: { config: { cpuRequest: '2', cpuLimit: '500m' } },
    key: 'cpuRequest',
    says: [/above the limit 500m/],
  },
  {
    label: 'malformed memory limit',
    options: { config: { memoryLimit: 'lots' } },
    key: 'memoryLimit',
    says: [/not a Kubernetes size/],
  },
  {
    label: 'seed chart version the seed command does not carry',
    options: { config: { seedCharts: ['nginx-test@9.9.9'] } },
    key: 'seedCharts',
    says: [/"nginx-test@9.9.9" is not one of the seed command's charts/, /nginx-test@1.0.0/],
  },
  {
    label: 'unknown seed chart',
    options: { config: { seedCharts: ['postgres-test@1.0.0'] } },
    key: 'seedCharts',
    says: [/name@version or name from: /],
  },
  {
    label: 'htpasswd and htpasswdSecret together',
    options: { config: { htpasswd: 'roost-test:$2y$05$abcdefghijklmnopqrstuu5Wj0BcqTz7Dhxg2oHZx7T5m8dvGvFJC', htpasswdSecret: 'x' } },
    key: 'htpasswdSecret',
    says: [/not both/],
  },
  {
    label: 'username missing from the htpasswd lines',
    options: { config: { htpasswd: 'alice:$2y$05$abcdefghijklmnopqrstuu5Wj0BcqTz7Dhxg2oHZx7T5m8dvGvFJC' } },
    key: 'username',
    says: [/"roost-test" has no line in htpasswd/, /"alice"/],
  },
  {
    label: 'ingress class without a host',
    options: { config: { ingressClassName: 'nginx' } },
    key: 'ingressHost',
    says: [/set the host/],
  },
  {
    label: 'HTTPRoute host without parentRefs',
    options: { config: { httpRouteHost: 'registry.example.com' } },
    key: 'httpRouteParentRefs',
    says: [/name the Gateway/],
  },
];

describe('invalid stack config', () => {
  for (const { label, options, key, says } of cases) {
    it(`${label}: names "${key}" and what is allowed`, async () => {
      const err = await failure(options);
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe('ConfigError');
      expect(err.message.startsWith(`Invalid config "${key}": `)).toBe(true);
      for (const pattern of says) expect(err.message).toMatch(pattern);
    });
  }

  it('the same values are accepted when valid (so the cases above fail for the stated reason)', async () => {
    const rendered = await renderProgram({
      config: {
        serviceType: 'NodePort',
        externalHost: '10.0.0.106',
        nodePort: 30500,
        storageSize: '20Gi',
        username: 'roost-test',
        port: 65535,
        cpuRequest: '500m',
        cpuLimit: '2',
        seedCharts: ['nginx-test@1.0.0'],
      },
    });
    expect(rendered.outputs.registryUrl).toBe('http://10.0.0.106:30500');
  });
});

describe('secrets stay out of error messages', () => {
  it('a malformed htpasswd line is named by number, not shown', async () => {
    const line = 'roost-test:plaintext-not-bcrypt';
    const err = await failure({ config: { htpasswd: line }, secretKeys: ['htpasswd'] });
    expect(err.message).toMatch(/^Invalid config "htpasswd": line 1 is not a bcrypt htpasswd entry/);
    expect(err.message).not.toContain('plaintext-not-bcrypt');
  });

  it('a password bcrypt cannot take is refused without echoing it', () => {
    const long = 'p'.repeat(73);
    const salt = Buffer.alloc(16, 7).toString('base64');
    expect(() => htpasswdLine('roost-test', long, salt)).toThrow(ConfigError);
    expect(() => htpasswdLine('roost-test', long, salt)).toThrow(/longer than 72 bytes/);
    try {
      htpasswdLine('roost-test', long, salt);
    } catch (err) {
      expect((err as Error).message).not.toContain(long);
    }
    expect(() => htpasswdLine('roost-test', 'two\nlines', salt)).toThrow(/line break/);
  });
});
