/**
 * The component's small pure helpers, on the cases the program-level tests do not reach.
 */
import { describe, expect, it } from 'vitest';
import { isPerchImage, parseImageRef, pinnedImage } from '../../components/image-ref';
import { seedJobName } from '../../components/names';
import { chooseRegistryUrl, helmLoginCommand } from '../../components/registry-url';
import { resolveSettings } from '../../components/settings';
import { byteQuantity, cpuQuantity, hostWithOptionalPort, quantityValue } from '../../components/validators';

describe('image references', () => {
  it.each([
    ['perch:0.1.0', { repository: 'perch', tag: '0.1.0' }, true],
    ['localhost:5000/perch:0.1.0', { repository: 'localhost:5000/perch', tag: '0.1.0' }, true],
    ['registry.local/tools/perch@sha256:' + 'a'.repeat(64), { repository: 'registry.local/tools/perch', digest: 'sha256:' + 'a'.repeat(64) }, true],
    ['ghcr.io/project-zot/zot:v2.1.20', { repository: 'ghcr.io/project-zot/zot', tag: 'v2.1.20' }, false],
    ['docker.io/library/registry:3', { repository: 'docker.io/library/registry', tag: '3' }, false],
  ])('%s', (text, parsed, perch) => {
    expect(parseImageRef('registryImage', text)).toEqual(parsed);
    expect(isPerchImage(parsed)).toBe(perch);
  });

  it('refuses unpinned and malformed references', () => {
    expect(() => pinnedImage('registryImage', 'perch')).toThrow(/not pinned/);
    expect(() => pinnedImage('registryImage', 'perch:latest')).toThrow(/never latest/);
    expect(() => parseImageRef('registryImage', 'Perch:0.1.0')).toThrow(/lower-case/);
    expect(() => parseImageRef('registryImage', 'perch:0.1.0 ')).toThrow(/whitespace/);
    expect(() => parseImageRef('registryImage', 'perch@sha256:short')).toThrow(/digest/);
    expect(() => parseImageRef('registryImage', 'perch:bad/tag')).toThrow();
  });
});

describe('quantities and hosts', () => {
  it('reads Kubernetes quantities', () => {
    expect(quantityValue('10Gi')).toBe(10 * 2 ** 30);
    expect(quantityValue('1.5')).toBe(1.5);
    expect(quantityValue('100m')).toBeCloseTo(0.1);
    expect(quantityValue('512M')).toBe(512e6);
    expect(byteQuantity('storageSize', '1Ti')).toBe('1Ti');
    expect(() => byteQuantity('storageSize', '10GB')).toThrow(/storageSize/);
    expect(() => cpuQuantity('cpuLimit', '1Gi')).toThrow(/CPU amount/);
  });

  it('reads hosts with optional ports', () => {
    expect(hostWithOptionalPort('externalHost', '10.0.0.106')).toEqual({ host: '10.0.0.106' });
    expect(hostWithOptionalPort('externalHost', 'registry.example.com:8443')).toEqual({ host: 'registry.example.com', port: 8443 });
    expect(hostWithOptionalPort('externalHost', '[fd00::1]:5000')).toEqual({ host: '[fd00::1]', port: 5000 });
    expect(() => hostWithOptionalPort('externalHost', 'registry.example.com/v2')).toThrow(/without http/);
    expect(() => hostWithOptionalPort('externalHost', 'registry.example.com:99999')).toThrow(/out of range/);
  });
});

describe('registry URL', () => {
  const base = { serviceType: 'LoadBalancer' as const, port: 5000, inClusterHost: 'svc.ns.svc.cluster.local:5000' };

  it('puts an IPv6 load-balancer address in brackets', () => {
    expect(chooseRegistryUrl({ ...base, loadBalancer: { ip: 'fd00::10' } })).toEqual({ url: 'http://[fd00::10]:5000', source: 'loadBalancer' });
  });

  it('keeps a port written in externalHost', () => {
    expect(chooseRegistryUrl({ ...base, serviceType: 'NodePort', nodePort: 31000, externalHost: { host: 'reg.example.com', port: 80 } }).url).toBe(
      'http://reg.example.com:80',
    );
  });

  it('NodePort before a port is allocated leaves the port off', () => {
    expect(chooseRegistryUrl({ ...base, serviceType: 'NodePort', externalHost: { host: '10.0.0.106' } }).url).toBe('http://10.0.0.106');
  });

  it('helm needs --plain-http only for http://', () => {
    expect(helmLoginCommand('https://registry.example.com', 'roost-test')).toBe(
      'helm registry login registry.example.com --username roost-test --password-stdin',
    );
    expect(helmLoginCommand('http://10.0.0.106:5000', 'roost-test')).toMatch(/ --plain-http$/);
  });
});

describe('names', () => {
  it('seed Job names fit 63 characters even for long chart names', () => {
    const name = seedJobName({ name: 'a-very-long-chart-name-that-goes-on-and-on-and-on', version: '10.20.30-rc.1+build.5' }, 'perch:0.1.0');
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('object names can be overridden, and are checked', () => {
    expect(resolveSettings({ names: { deployment: 'registry' } }).names.deployment).toBe('registry');
    expect(() => resolveSettings({ names: { service: '5000-registry' } })).toThrow(/names.service/);
  });
});
