/**
 * The ConfigMap's config.json, as the component writes it, loaded by the registry's own
 * config loader (perch/config), and kept to zot's keys when left at defaults.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from 'perch/config';
import { CONFIG_FILE, DATA_DIR, HTPASSWD_PATH, REGISTRY_PORT, TOKEN_KEY_PATH } from '../../components/container-interface';
import { keysOutside, ZOT_V2_1_20_KEYS } from './zot-keys';
import { renderProgram, type StackConfig } from './render';

async function configJson(config: StackConfig = {}): Promise<{ text: string; json: any }> {
  const rendered = await renderProgram({ config });
  const text = rendered.configMapData('zot-registry-config')[CONFIG_FILE]!;
  return { text, json: JSON.parse(text) };
}

describe('config.json in the ConfigMap', () => {
  it('default: perch loads it with no warning and reads the container interface from it', async () => {
    const { json } = await configJson();
    const { config, warnings } = parseConfig(json, 'configmap zot-registry-config');
    expect(warnings).toEqual([]);
    expect(config.http.port).toBe(REGISTRY_PORT);
    expect(config.http.address).toBe('0.0.0.0');
    expect(config.http.auth?.htpasswd?.path).toBe(HTPASSWD_PATH);
    expect(config.storage.rootDirectory).toBe(DATA_DIR);
    expect(config.log.level).toBe('info');
    expect(config.http.accessControl).toBeUndefined();
    expect(config.perch.auth.challenge).toBe('basic');
  });

  it('default: uses only keys zot v2.1.20 knows, with the port as a string (zot HTTPConfig.Port)', async () => {
    const { json } = await configJson();
    expect(keysOutside(ZOT_V2_1_20_KEYS, json)).toEqual([]);
    expect(json.perch).toBeUndefined();
    expect(json.http.port).toBe(String(REGISTRY_PORT));
    expect(json.distSpecVersion).toBe('1.1.1');
  });

  it('anonymousRead: zot accessControl, anonymous read on ** and every action for logged-in users', async () => {
    const { json } = await configJson({ anonymousRead: true });
    expect(keysOutside(ZOT_V2_1_20_KEYS, json)).toEqual([]);
    expect(json.http.accessControl).toEqual({
      repositories: { '**': { anonymousPolicy: ['read'], defaultPolicy: ['read', 'create', 'update', 'delete'] } },
    });
    const { config, warnings } = parseConfig(json, 'configmap');
    expect(warnings).toEqual([]);
    const policy = config.http.accessControl!.repositories['**']!;
    expect(policy.anonymousPolicy).toEqual(['read']);
    expect([...policy.defaultPolicy].sort()).toEqual(['create', 'delete', 'read', 'update']);
  });

  it('authMode token: adds only the perch section, which perch loads as a bearer challenge', async () => {
    const { json } = await configJson({ authMode: 'token' });
    expect(keysOutside(ZOT_V2_1_20_KEYS, json)).toEqual(['perch']);
    expect(json.perch).toEqual({ auth: { challenge: 'bearer', tokenKeyFile: TOKEN_KEY_PATH } });
    const { config, warnings } = parseConfig(json, 'configmap');
    expect(warnings).toEqual([]);
    expect(config.perch.auth.challenge).toBe('bearer');
    expect(config.perch.auth.tokenKeyFile).toBe(TOKEN_KEY_PATH);
  });

  it('logLevel reaches log.level', async () => {
    const { json } = await configJson({ logLevel: 'debug' });
    expect(parseConfig(json, 'configmap').config.log.level).toBe('debug');
  });

  it('the text is stable JSON ending in a newline', async () => {
    const first = await configJson({ anonymousRead: true, authMode: 'token' });
    const second = await configJson({ anonymousRead: true, authMode: 'token' });
    expect(first.text).toBe(second.text);
    expect(first.text.endsWith('}\n')).toBe(true);
  });
});
