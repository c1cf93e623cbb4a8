/**
 * An error answer from the registry as a RegistryError whose message says what to do: who
 * lacked which right (403), what was missing (404), what the registry does not allow (405),
 * what was too large (413), whose failure a 5xx is.
 */
import { RegistryError } from './errors';
import type { HttpResponse } from './http-transport';
import { describeResponse, ociErrors } from './oci-errors';
import type { Session } from './session';

/** What the request needed the right to do, in zot accessControl words. */
export type Need = 'read' | 'push' | 'delete';

const ACCESS: Record<Need, string> = {
  read: '"read"',
  push: '"create" (and "update" to replace a tag)',
  delete: '"delete"',
};

export function refusal(session: Session, what: string, response: HttpResponse, repository: string | undefined, need: Need): RegistryError {
  const details = { status: response.status, ociErrors: ociErrors(response) };
  const answer = describeResponse(response);
  const where = repository ? ` ${repository}` : '';
  switch (response.status) {
    case 403:
      return new RegistryError(
        'denied',
        `the registry at ${session.origin} denied the ${what} (${answer}): ${session.who} needs ${ACCESS[need]} permission on${where || ' the registry'}${session.who === 'anonymous' ? '; pass credentials of a user who has it' : ''}`,
        details,
      );
    case 404:
      return new RegistryError('not-found', `the registry at ${session.origin} has no such thing: the ${what} answered ${answer}`, details);
    case 405:
      return new RegistryError(
        'refused',
        `the registry at ${session.origin} does not allow the ${what} (${answer})${need === 'delete' ? '; deleting may be turned off in its configuration (distribution: storage.delete.enabled)' : '; it may be read-only'}`,
        details,
      );
    case 413:
      return new RegistryError('refused', `the registry at ${session.origin} refused the ${what} as too large (${answer}): a size limit or a quota`, details);
    default:
      return new RegistryError(
        'refused',
        `the registry at ${session.origin} refused the ${what}: ${answer}${response.status >= 500 ? "; that is the registry's own failure, see its log" : ''}`,
        details,
      );
  }
}
