/**
 * The OCI conformance suite with every request carrying an OpenID Connect access token that
 * perch checks through http.auth.bearer.oidc (the workload-identity configuration of zot's
 * examples/config-bearer-oidc-workload.json).
 *
 * The suite takes only OCI_USERNAME and OCI_PASSWORD (its config.go): on a Bearer challenge it
 * GETs the challenge's realm with them as Basic credentials and uses the `token` (or
 * `access_token`) of the JSON answer. It has no setting for a ready-made token. So the
 * realm here is a small token exchange in the test process: it takes the Basic credentials as
 * an OAuth2 client id and secret and does a client_credentials grant at the OpenID provider
 * (helpers/oidc-provider.ts), returning the provider's JWT unchanged. perch itself issues no
 * token and knows no password: every request the suite makes is authorised by the provider's
 * signature, audience and claims.sub alone.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { runConformance } from '../helpers/conformance';
import { startOidcProvider, type RunningOidcProvider } from '../helpers/oidc-provider';
import { startRegistry, type RunningRegistry } from '../helpers/registry';

let idp: RunningOidcProvider | undefined;
let exchange: Server | undefined;
let registry: RunningRegistry | undefined;
let exchanged = 0;

afterAll(async () => {
  await registry?.stop();
  exchange?.closeAllConnections();
  exchange?.close();
  await idp?.stop();
});

/** GET /token with Basic client_id:secret -> {"token": <client-credentials access token>}. */
async function startTokenExchange(provider: RunningOidcProvider): Promise<string> {
  exchange = createServer((req, res) => {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const [clientId, ...secret] = basic ? Buffer.from(basic, 'base64').toString().split(':') : [];
    if (!clientId) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="token exchange"' }).end();
      return;
    }
    provider
      .clientCredentials({ clientId, clientSecret: secret.join(':') })
      .then((tokens) => {
        exchanged++;
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: tokens.accessToken, expires_in: tokens.expiresIn }));
      })
      .catch((err: Error) => res.writeHead(401, { 'Content-Type': 'text/plain' }).end(err.message));
  });
  exchange.listen(0, '127.0.0.1');
  await once(exchange, 'listening');
  return `http://127.0.0.1:${(exchange.address() as AddressInfo).port}/token`;
}

it('passes every check with OpenID workload tokens as the only credentials', async () => {
  idp = await startOidcProvider({ workloadClientId: 'conformance-ci' });
  const realm = await startTokenExchange(idp);
  registry = await startRegistry({
    config: {
      http: {
        auth: {
          bearer: {
            realm,
            service: 'perch-conformance',
            oidc: [{ issuer: idp.issuer, audiences: ['zot'], claimMapping: { username: 'claims.sub' } }],
          },
        },
        accessControl: {
          repositories: { '**': { policies: [{ users: ['conformance-ci'], actions: ['read', 'create', 'update', 'delete'] }] } },
        },
      },
    },
  });
  const anonymous = await fetch(`${registry.url}/v2/conformance/anon/blobs/uploads/`, { method: 'POST' });
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toContain(`Bearer realm="${realm}"`);

  const run = await runConformance({
    registryHost: registry.host,
    username: idp.workload.clientId,
    password: idp.workload.clientSecret,
    runName: 'perch-oidc-bearer',
  });
  console.log(`${run.summary.split('\n')[0]}; ${exchanged} provider tokens used`);
  expect(run.cases.length, run.summary).toBeGreaterThan(100);
  expect({ failed: run.counts.failure, errors: run.counts.error, skipped: run.counts.skipped }, run.summary).toEqual({ failed: 0, errors: 0, skipped: 0 });
  expect(exchanged).toBeGreaterThan(0);
  // The client secret and the tokens never reach perch (the secret only goes to the provider).
  expect(registry.logs.join('\n')).not.toContain(idp.workload.clientSecret);
  expect(registry.logs.join('\n')).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\.eyJ/);
}, 240_000);
