/**
 * The session cookie as a login method (authenticator.ts RequestAuthenticator): asked by the
 * chain only for a request without an Authorization header and not sent for another site's
 * page. The principal keeps the method that made the session ("openid"), so the log and
 * perch tokens say how the user really signed in.
 */
import type { IncomingMessage } from 'node:http';
import type { Principal, RequestAuthenticator } from '../authenticator';
import type { Sessions } from './sessions';

export class SessionAuthenticator implements RequestAuthenticator {
  readonly method = 'session';

  constructor(private readonly sessions: Sessions) {}

  identify(req: IncomingMessage): Principal | null {
    return this.sessions.read(req);
  }
}
