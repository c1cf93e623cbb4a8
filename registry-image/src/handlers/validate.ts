/** Route parameters checked against the spec's grammar before anything touches storage. */
import { RegistryError } from '../http/errors';
import { isDigest } from '../oci/digest';
import { isRepositoryName, isTag } from '../oci/names';

export function repositoryParam(name: string): string {
  if (!isRepositoryName(name)) throw new RegistryError('NAME_INVALID', `invalid repository name ${JSON.stringify(name)}: lowercase path components of [a-z0-9] separated by '.', '_', '__' or '-', joined by '/'`);
  return name;
}

export function digestParam(digest: string | null | undefined): string {
  if (!digest || !isDigest(digest)) throw new RegistryError('DIGEST_INVALID', `invalid digest ${JSON.stringify(digest ?? '')}: expected sha256:<64 hex> or sha512:<128 hex>`);
  return digest;
}

/** A manifest reference: a digest or a tag. */
export function referenceParam(reference: string): { digest?: string; tag?: string } {
  if (reference.includes(':')) return { digest: digestParam(reference) };
  if (!isTag(reference)) throw new RegistryError('TAG_INVALID', `invalid tag ${JSON.stringify(reference)}: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'`);
  return { tag: reference };
}

/**
 * `n` and `last` of the paginated lists (spec: "Listing Tags"). Each may be given once: a
 * second value (`n=1&n=1000`) is refused rather than one of them picked, since the client and
 * any proxy in between may not pick the same one.
 */
export function pageParams(query: URLSearchParams): { n?: number; last?: string } {
  for (const param of ['n', 'last']) {
    const count = query.getAll(param).length;
    if (count > 1) throw new RegistryError('PAGINATION_INVALID', `${param} is given ${count} times; give it once`);
  }
  const nRaw = query.get('n');
  let n: number | undefined;
  if (nRaw !== null) {
    n = Number(nRaw);
    if (!/^\d+$/.test(nRaw) || !Number.isSafeInteger(n)) throw new RegistryError('PAGINATION_INVALID', `n=${JSON.stringify(nRaw)} is not a non-negative integer`);
  }
  return { n, last: query.get('last') ?? undefined };
}

/** Applies n/last to a sorted list; returns the page and, when more follow, the last item shown. */
export function paginate(items: string[], n?: number, last?: string): { page: string[]; next?: string } {
  const start = last === undefined ? 0 : items.findIndex((item) => item > last);
  const rest = start === -1 ? [] : items.slice(start);
  if (n === undefined || rest.length <= n) return { page: rest };
  const page = rest.slice(0, n);
  return { page, next: page.length ? page[page.length - 1] : undefined };
}
