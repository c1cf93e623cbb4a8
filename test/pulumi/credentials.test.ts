/**
 * Credentials: the htpasswd line matches the password output, the password output is a
 * secret, and neither the password nor its bcrypt line leaks into any other resource.
 */
import * as pulumi from '@pulumi/pulumi';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { HTPASSWD_FILE } from '../../components/container-interface';
import { SALT_BYTES } from '../../components/htpasswd';
import { DEFAULT_MOCK_VALUES } from './mocks';
import { renderProgram, type RenderedProgram } from './render';

const HTPASSWD_SECRET = 'zot-registry-htpasswd';
const SEED_SECRET = 'zot-registry-seed-credentials';

function htpasswdEntry(rendered: RenderedProgram): { user: string; hash: string } {
  const text = rendered.secretData(HTPASSWD_SECRET)[HTPASSWD_FILE]!;
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  const [user, hash] = lines[0]!.split(':') as [string, string];
  return { user, hash };
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

describe('generated password', () => {
  it('the htpasswd line is bcrypt of the password output for the username', async () => {
    const rendered = await renderProgram();
    const { user, hash } = htpasswdEntry(rendered);
    expect(user).toBe(rendered.outputs.username);
    expect(user).toBe('roost-test');
    expect(rendered.outputs.password).toBe(DEFAULT_MOCK_VALUES.password);
    expect(bcrypt.compareSync(rendered.outputs.password!, hash)).toBe(true);
    expect(bcrypt.compareSync(`${rendered.outputs.password}x`, hash)).toBe(false);
    // bcrypt $2b$, cost 10, salt from the random resource Pulumi keeps.
    expect(hash.startsWith('$2b$10$')).toBe(true);
    const salt = Buffer.from(DEFAULT_MOCK_VALUES.saltBase64, 'base64');
    expect(bcrypt.getSalt(hash)).toBe(`$2b$10$${bcrypt.encodeBase64(salt, SALT_BYTES)}`);
  });

  it('the password comes from a RandomPassword of 32 letters and digits', async () => {
    const rendered = await renderProgram();
    const random = rendered.find('random:index/randomPassword:RandomPassword');
    expect(random.inputs).toMatchObject({ length: 32, special: false });
    expect(rendered.find('random:index/randomBytes:RandomBytes').inputs.length).toBe(SALT_BYTES);
  });

  it('the password output is a secret, and so are both Secrets\' data', async () => {
    const rendered = await renderProgram();
    expect(await pulumi.isSecret(rendered.exports.password as pulumi.Output<unknown>)).toBe(true);
    for (const name of [HTPASSWD_SECRET, SEED_SECRET]) {
      const secret = rendered.resources.find((r) => r.inputs.metadata?.name === name)!;
      expect(secret.secretPaths, name).toContain('stringData');
    }
    // Outputs that are not secret carry no password.
    for (const key of ['registryUrl', 'username', 'helmLoginCommand', 'healthCheckUrl', 'namespace'] as const) {
      expect(await pulumi.isSecret(pulumi.output(rendered.exports[key] as pulumi.Output<unknown>)), key).toBe(false);
      expect(JSON.stringify(rendered.outputs[key])).not.toContain(rendered.outputs.password!);
    }
  });

  it('the plaintext password is only in the seed Secret; the bcrypt line only in the htpasswd Secret', async () => {
    const rendered = await renderProgram({ config: { authMode: 'token', anonymousRead: true } });
    expect(holders(rendered, rendered.outputs.password!)).toEqual([`kubernetes:core/v1:Secret ${SEED_SECRET}`]);
    expect(holders(rendered, htpasswdEntry(rendered).hash)).toEqual([`kubernetes:core/v1:Secret ${HTPASSWD_SECRET}`]);
    expect(rendered.secretData(SEED_SECRET)).toEqual({ username: 'roost-test', password: rendered.outputs.password });
  });

  it('the registry Pod never mounts or references the seed Secret', async () => {
    const rendered = await renderProgram();
    expect(JSON.stringify(rendered.find('kubernetes:apps/v1:Deployment').inputs)).not.toContain(SEED_SECRET);
  });
});

describe('password set in stack config', () => {
  const password = 'correct-horse-battery-staple-42';

  it('is hashed into htpasswd, handed to the seed Jobs, exported as a secret and nowhere else', async () => {
    const rendered = await renderProgram({ config: { password, username: 'ci-bot' }, secretKeys: ['password'] });
    const { user, hash } = htpasswdEntry(rendered);
    expect(user).toBe('ci-bot');
    expect(bcrypt.compareSync(password, hash)).toBe(true);
    expect(rendered.outputs.password).toBe(password);
    expect(await pulumi.isSecret(rendered.exports.password as pulumi.Output<unknown>)).toBe(true);
    expect(rendered.all('random:index/randomPassword:RandomPassword')).toHaveLength(0);
    expect(holders(rendered, password)).toEqual([`kubernetes:core/v1:Secret ${SEED_SECRET}`]);
    expect(rendered.outputs.helmLoginCommand).toContain('--username ci-bot --password-stdin');
  });

  it('stays a secret output even when set without --secret', async () => {
    const rendered = await renderProgram({ config: { password } });
    expect(await pulumi.isSecret(rendered.exports.password as pulumi.Output<unknown>)).toBe(true);
    expect(holders(rendered, password)).toEqual([`kubernetes:core/v1:Secret ${SEED_SECRET}`]);
  });
});
