/**
 * The CEL subset perch evaluates for http.auth.bearer.oidc claimMapping
 * (auth/oidc/claim-expression.ts): what parses, what it yields for real-shaped claims (a
 * Kubernetes service-account token, a GitHub Actions token), and that everything else is
 * refused with the expression and the supported forms named.
 */
import { describe, expect, it } from 'vitest';
import { evaluateGroups, evaluateString, parseClaimExpression } from '../../registry-image/src/auth/oidc/claim-expression';

const K8S = {
  iss: 'https://kubernetes.default.svc.cluster.local',
  sub: 'system:serviceaccount:flux-system:source-controller',
  aud: ['zot'],
  'kubernetes.io/serviceaccount/namespace': 'flux-system',
  kubernetes: { io: { namespace: 'flux-system', serviceaccount: { name: 'source-controller' } } },
  groups: ['system:serviceaccounts', 'system:serviceaccounts:flux-system'],
  email_verified: true,
};

const value = (text: string) => evaluateString(parseClaimExpression(text), K8S);

describe('claim mapping expressions', () => {
  it.each([
    ['claims.sub', K8S.sub],
    ["claims.iss + '/' + claims.sub", `${K8S.iss}/${K8S.sub}`],
    ['claims.iss+"/"+claims.sub', `${K8S.iss}/${K8S.sub}`],
    ["claims['kubernetes.io/serviceaccount/namespace']", 'flux-system'],
    ["claims.kubernetes.io.namespace + ':' + claims.kubernetes.io['serviceaccount'].name", 'flux-system:source-controller'],
    ["'ci-' + claims.kubernetes.io.serviceaccount.name", 'ci-source-controller'],
    ["'it\\'s'", "it's"],
  ])('%s yields %s', (text, expected) => {
    expect(value(text)).toBe(expected);
  });

  it('yields groups from a list claim, a list literal, or one string', () => {
    expect(evaluateGroups(parseClaimExpression('claims.groups'), K8S)).toEqual(K8S.groups);
    expect(evaluateGroups(parseClaimExpression("['github-actions', \"ci\"]"), K8S)).toEqual(['github-actions', 'ci']);
    expect(evaluateGroups(parseClaimExpression("'ns-' + claims.kubernetes.io.namespace"), K8S)).toEqual(['ns-flux-system']);
    expect(evaluateGroups(parseClaimExpression('claims.roles'), K8S)).toEqual([]);
  });

  it('fails a token whose claim is missing or not a string, naming the claim', () => {
    expect(() => value('claims.email')).toThrow('the token has no claims.email');
    expect(() => value('claims.aud')).toThrow('claims.aud is a list, not a string');
    expect(() => value('claims.email_verified')).toThrow('claims.email_verified is a boolean, not a string');
    expect(() => evaluateGroups(parseClaimExpression('claims.email_verified'), K8S)).toThrow('not a list of groups');
  });

  it.each([
    ["claims.email.split('@')[0]", 'function calls are not supported'],
    ['vars.repo', 'vars is not supported'],
    ["claims.org in ['a']", 'is not supported'],
    ['claims.email_verified == true', 'is not supported'],
    ["claims.sub + 'x", 'is not closed'],
    ['claims', 'claims alone'],
    ['', 'is empty'],
    ["['a'] + claims.sub", 'a list cannot be joined'],
    ['claims[sub]', 'takes a quoted key'],
  ])('refuses %j (%s), naming it and the supported forms', (text, problem) => {
    let message = '';
    try {
      parseClaimExpression(text);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`claim mapping ${JSON.stringify(text)}`);
    expect(message).toContain(problem);
    expect(message).toContain("perch evaluates these CEL forms: claims.NAME, claims.a.b, claims['key']");
  });
});
