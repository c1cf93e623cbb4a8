/**
 * One string as a YAML scalar: plain where YAML 1.1 and 1.2 both read it back as the same
 * string (Helm's YAML library is 1.1, where `yes`/`on` are booleans), double-quoted otherwise.
 */
const PLAIN = /^[A-Za-z][A-Za-z0-9._/:@+-]*$/;
const VERSION_LIKE = /^\d+\.\d+\.\d+[0-9A-Za-z.+-]*$/;
const YAML11_WORDS = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

export function yamlScalar(value: string): string {
  if ((PLAIN.test(value) && !YAML11_WORDS.test(value) && !value.includes(': ')) || VERSION_LIKE.test(value)) return value;
  return JSON.stringify(value);
}
