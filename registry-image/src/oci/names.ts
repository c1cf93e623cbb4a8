/**
 * Repository names and tags, by the distribution spec's grammar ("Pulling manifests").
 * A name is path components of `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by `/`; so no
 * component can be empty, `.`, `..` or start with `_`, which keeps every name a safe
 * relative path and leaves `_`-prefixed folder names free for the storage layout.
 */

const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** distribution's limit on the whole name, which also keeps paths short. */
const MAX_NAME_LENGTH = 255;

export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

export function isTag(tag: string): boolean {
  return TAG.test(tag);
}
