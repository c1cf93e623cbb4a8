/**
 * `perch seed` arguments: what each flag and environment variable becomes, and the message
 * for each mistake (the Pulumi tests parse the seed Jobs' args with the same function).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUT_MS, parseSeedArgs, SEED_CHARTS, SEED_ENV, SEED_USAGE, SeedError } from '../../registry-image/src/seed';
import { seedCli } from './seed-helpers';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseSeedArgs(argv, env);
const failure = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    parse(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(SeedError);
    expect((err as SeedError).kind).toBe('usage');
    return (err as Error).message;
  }
  throw new Error(`parseSeedArgs(${argv.join(' ')}) did not fail`);
};

describe('parseSeedArgs', () => {
  it('defaults: every chart in push order, dependencies from the same registry, anonymous, 120s', () => {
    const options = parse(['--registry', 'http://localhost:5000']);
    expect(options).toEqual({
      registry: { scheme: 'http', host: 'localhost:5000', hostname: 'localhost', port: 5000, origin: 'http://localhost:5000', insecure: false },
      charts: [...SEED_CHARTS],
      dependencyRepository: 'oci://localhost:5000/roost-test',
      username: undefined,
      password: 'none',
      insecure: false,
      timeoutMs: DEFAULT_TIMEOUT_MS,
    });
    expect(DEFAULT_TIMEOUT_MS).toBe(120_000);
  });

  it('the seed Job form: --flag value and --flag=value, one chart, a dependency repository, --insecure, credentials from the environment', () => {
    const options = parse(
      ['--registry=http://zot-registry-service.zot-registry.svc.cluster.local:5000', '--chart', 'multi-chart@1.0.0', '--dependency-repository', 'oci://registry.example.com/roost-test/', '--insecure', '--timeout=2m30s'],
      { [SEED_ENV.username]: 'roost-test', [SEED_ENV.password]: 'secret' },
    );
    expect(options.registry.origin).toBe('http://zot-registry-service.zot-registry.svc.cluster.local:5000');
    expect(options.charts).toEqual([{ name: 'multi-chart', version: '1.0.0' }]);
    expect(options.dependencyRepository).toBe('oci://registry.example.com/roost-test');
    expect(options).toMatchObject({ insecure: true, timeoutMs: 150_000, username: 'roost-test', password: 'env' });
    expect(JSON.stringify(options)).not.toContain('secret');
  });

  it('--chart NAME takes all its versions; repeats are merged and kept in push order', () => {
    const options = parse(['--registry', 'localhost:5000', '--chart', 'redis-test', '--chart', 'nginx-test', '--chart', 'nginx-test@1.1.0']);
    expect(options.charts.map((c) => `${c.name}@${c.version}`)).toEqual(['nginx-test@1.0.0', 'nginx-test@1.1.0', 'redis-test@1.0.0']);
  });

  it('scheme rules: loopback without a scheme is http, other hosts https; plain HTTP elsewhere needs --insecure', () => {
    expect(parse(['--registry', '127.0.0.1:5000']).registry.origin).toBe('http://127.0.0.1:5000');
    expect(parse(['--registry', '[::1]:5000']).registry.origin).toBe('http://[::1]:5000');
    expect(parse(['--registry', 'registry.example.com']).registry).toMatchObject({ origin: 'https://registry.example.com', port: 443 });
    expect(parse(['--registry', 'https://10.0.0.5:5000']).registry.origin).toBe('https://10.0.0.5:5000');
    expect(parse(['--registry', '10.0.0.5:5000', '--insecure']).registry.origin).toBe('http://10.0.0.5:5000');
    expect(failure(['--registry', 'http://10.0.0.5:5000'])).toBe(
      '--registry http://10.0.0.5:5000 is plain HTTP to 10.0.0.5, which is not a loopback address: add --insecure if you mean it (credentials and charts travel unencrypted), or use https://',
    );
  });

  it.each([
    [[], /^--registry is required, e.g. perch seed --registry http:\/\/localhost:5000$/],
    [['--registry'], /^--registry needs a value/],
    [['--registry', 'http://a:1', '--registry', 'http://b:1'], /^--registry is given 2 times; give it once$/],
    [['--registry', 'oci://localhost:5000'], /the scheme must be http:\/\/ or https:\/\//],
    [['--registry', 'http://localhost:5000/roost-test'], /without a path; the charts go under roost-test\//],
    [['--registry', 'http://u:p@localhost:5000'], /must not hold credentials: pass --username with --password-stdin/],
    [['--registry', 'localhost:5000', '--chart', 'nope'], /there is no seed chart named "nope"; available: nginx-test@1.0.0, nginx-test@1.1.0, redis-test@1.0.0, multi-chart@1.0.0$/],
    [['--registry', 'localhost:5000', '--chart', 'nginx-test@9.9.9'], /nginx-test has no version "9.9.9"; available: nginx-test@1.0.0, nginx-test@1.1.0$/],
    [['--registry', 'localhost:5000', '--dependency-repository', 'https://x/y'], /must be an oci:\/\/ repository with a path/],
    [['--registry', 'localhost:5000', '--dependency-repository', 'oci://x/Roost'], /the path must be lower-case/],
    [['--registry', 'localhost:5000', '--timeout', '5'], /--timeout "5" is not a positive duration: write it with a unit, e.g. 120s/],
    [['--registry', 'localhost:5000', '--password', 'hunter2'], /takes no --password .*pipe it to --password-stdin, or set PERCH_SEED_PASSWORD/],
    [['--registry', 'localhost:5000', '--username', 'u'], /a username \("u"\) without a password: pass --password-stdin .* or set PERCH_SEED_PASSWORD/],
    [['--registry', 'localhost:5000', '--password-stdin'], /a password \(--password-stdin\) without a username: pass --username, or set PERCH_SEED_USERNAME/],
    [['--registry', 'localhost:5000', '--insecure=yes'], /--insecure takes no value/],
    [['--registry', 'localhost:5000', '--verbose'], /^unknown flag --verbose; perch seed takes --registry, --chart/],
    [['localhost:5000'], /^unexpected argument "localhost:5000": perch seed takes flags only/],
  ])('%j -> %s', (argv, message) => {
    expect(failure(argv as string[])).toMatch(message);
  });

  it('a password in the environment without a username is a mistake too', () => {
    expect(failure(['--registry', 'localhost:5000'], { [SEED_ENV.password]: 'x' })).toMatch(/a password \(PERCH_SEED_PASSWORD\) without a username/);
  });
});

describe('perch seed (CLI)', () => {
  it('--help prints the usage with every flag and the environment variables, exit 0', async () => {
    const run = await seedCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(SEED_USAGE);
    for (const word of ['--registry', '--chart', '--dependency-repository', '--username', '--password-stdin', '--insecure', '--timeout', SEED_ENV.username, SEED_ENV.password]) {
      expect(run.stdout).toContain(word);
    }
  });

  it('a usage error prints the problem and a pointer to --help on stderr, exit 2', async () => {
    const run = await seedCli(['--registry', 'localhost:5000', '--chart', 'nope@1.0.0']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^perch seed: --chart nope@1.0.0: there is no seed chart named "nope"; available: .*\n\(perch seed --help shows every flag\)\n$/);
  });

  it('an empty password from stdin is refused before any connection', async () => {
    const run = await seedCli(['--registry', 'http://127.0.0.1:9', '--username', 'u', '--password-stdin'], {}, { stdin: '\n' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--password-stdin read an empty password from standard input');
  });
});
