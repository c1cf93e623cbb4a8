/**
 * Real clients over the self-signed certificate, each told to trust exactly that file the way
 * docs/operations.md tells users to: helm --ca-file, oras --ca-file, crane through
 * SSL_CERT_FILE, skopeo --cert-dir. And crane without it is refused (no silent downgrade to
 * plain HTTP on a TLS port).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClientHome, type ClientHome } from '../helpers/client-home';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';

function tool(name: string): string {
  const path = join(process.env.PERCH_TOOLS ?? join(homedir(), '.cache/perch-tools'), 'bin', name);
  // A machine without the clients fails this suite: scripts/ install them (PEERS.md).
  if (!existsSync(path)) throw new Error(`${path} is missing: install the Go clients first (see docs/testing.md)`);
  return path;
}

describe('registry clients over the self-signed certificate', () => {
  let registry: RunningRegistry;
  let home: ClientHome;
  let ca: string;
  let host: string;
  beforeAll(async () => {
    registry = await startRegistry({ config: { perch: { tls: { selfSigned: { hosts: ['registry.roost.test'] } } } } });
    home = makeClientHome('perch-tls-clients-');
    ca = join(home.dir, 'registry-ca.pem');
    copyFileSync(join(registry.dataDir, 'tls', 'cert.pem'), ca);
    host = `127.0.0.1:${registry.port}`;
  });
  afterAll(async () => {
    await registry?.stop();
    home?.remove();
  });

  it('helm pushes and pulls a chart with --ca-file', async () => {
    const helm = tool('helm3');
    const chart = home.folder('chart');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: tls-chart\nversion: 0.1.0\n');
    const out = home.folder('packaged');
    await runCommand(helm, ['package', chart, '-d', out], { env: home.env });
    const pushed = await runCommand(helm, ['push', join(out, 'tls-chart-0.1.0.tgz'), `oci://${host}/charts`, '--ca-file', ca], { env: home.env });
    expect(pushed.stdout + pushed.stderr).toContain(`Pushed: ${host}/charts/tls-chart:0.1.0`);
    const pulledDir = home.folder('pulled');
    await runCommand(helm, ['pull', `oci://${host}/charts/tls-chart`, '--version', '0.1.0', '--ca-file', ca, '-d', pulledDir], { env: home.env });
    expect(readFileSync(join(pulledDir, 'tls-chart-0.1.0.tgz')).equals(readFileSync(join(out, 'tls-chart-0.1.0.tgz')))).toBe(true);
  });

  it('oras pushes and pulls with --ca-file; skopeo reads it with --cert-dir', async () => {
    const oras = tool('oras');
    const work = home.folder('oras');
    writeFileSync(join(work, 'note.txt'), 'over TLS\n');
    await runCommand(oras, ['push', '--ca-file', ca, `${host}/files/note:v1`, 'note.txt'], { env: home.env, cwd: work });
    const pulled = home.folder('oras-pulled');
    await runCommand(oras, ['pull', '--ca-file', ca, '-o', pulled, `${host}/files/note:v1`], { env: home.env });
    expect(readFileSync(join(pulled, 'note.txt'), 'utf8')).toBe('over TLS\n');

    const certDir = home.folder('skopeo-certs');
    copyFileSync(ca, join(certDir, 'ca.crt'));
    const inspected = await runCommand('skopeo', ['inspect', '--raw', '--cert-dir', certDir, `docker://${host}/files/note:v1`], { env: home.env });
    expect(JSON.parse(inspected.stdout).layers[0].annotations['org.opencontainers.image.title']).toBe('note.txt');
  });

  it('crane trusts it through SSL_CERT_FILE, and refuses the registry without it', async () => {
    const crane = tool('crane');
    const trusted = await runCommand(crane, ['ls', `${host}/files/note`], { env: { ...home.env, SSL_CERT_FILE: ca } });
    expect(trusted.stdout.trim()).toBe('v1');
    const refused = await runCommand(crane, ['ls', `${host}/files/note`], { env: home.env, allowFailure: true });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('certificate signed by unknown authority');
  });
});
