/**
 * The command a person copies to pull what they are looking at. Helm charts are pulled by
 * version, and Helm stores a version's `+` as `_` in the tag (OCI tags cannot hold `+`;
 * helm pkg/registry/util.go), so the tag is turned back into the version. Images go to
 * docker; anything else to oras, which pulls any artifact. Over plain HTTP, helm and oras
 * need --plain-http (helm 4 even for localhost; docker decides by itself for localhost and
 * otherwise needs the host in its daemon's insecure-registries, which no flag can say).
 */
import type { ArtifactKind } from './artifact';

export interface PullTarget {
  kind: ArtifactKind;
  /** host[:port] the registry is reached at, as the browser reached it. */
  host: string;
  repository: string;
  tag?: string;
  digest: string;
  /** The registry is reached over plain HTTP. */
  plainHttp: boolean;
}

export function pullCommand(t: PullTarget): string {
  const ref = `${t.host}/${t.repository}`;
  const plain = t.plainHttp ? ' --plain-http' : '';
  switch (t.kind) {
    case 'helm-chart':
      return (t.tag ? `helm pull oci://${ref} --version ${t.tag.replace(/_/g, '+')}` : `helm pull oci://${ref}@${t.digest}`) + plain;
    case 'image':
    case 'index':
      return `docker pull ${t.tag ? `${ref}:${t.tag}` : `${ref}@${t.digest}`}`;
    case 'artifact':
      return `oras pull ${t.tag ? `${ref}:${t.tag}` : `${ref}@${t.digest}`}${plain}`;
  }
}
