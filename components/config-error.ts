/**
 * The one error a bad configuration throws while the program runs (before any resource is
 * registered), so `pulumi up` stops with a message that names the key, what was wrong and
 * what is allowed. Secret values (password, htpasswd) are never echoed.
 *
 * A RunError: Pulumi prints its message alone. Any other error is printed with its stack
 * through util.inspect with colours on, which puts escape codes around the key even when the
 * output is a file or a CI log.
 */
import * as pulumi from '@pulumi/pulumi';

export class ConfigError extends pulumi.RunError {
  override readonly name = 'ConfigError';

  constructor(
    /** The stack config key (and ZotRegistryArgs field) at fault, e.g. `serviceType`. */
    readonly key: string,
    /** What is wrong and what is allowed, e.g. `"Foo" is not a Service type; use ...`. */
    problem: string,
  ) {
    super(`Invalid config "${key}": ${problem}`);
  }
}
