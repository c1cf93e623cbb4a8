/**
 * Reading a registry's error answers: the distribution spec's error body
 * `{"errors":[{"code","message","detail"}]}` ("Error Codes"), turned into one short line for
 * messages. Shared by the client library and `perch seed`.
 */
import type { HttpResponse } from './http-transport';

export interface OciErrorEntry {
  code: string;
  message: string;
}

/** The `{"errors":[{"code","message","detail"}]}` body of an error response, if it has one. */
export function ociErrors(response: Pick<HttpResponse, 'body'>): OciErrorEntry[] {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { errors?: unknown };
    if (!Array.isArray(body.errors)) return [];
    return body.errors
      .filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object')
      .map((e) => ({ code: String(e.code ?? 'UNKNOWN'), message: String(e.message ?? '') }));
  } catch {
    return [];
  }
}

/** "403 DENIED: requested access to the resource is denied", or the status and a bit of the body. */
export function describeResponse(response: Pick<HttpResponse, 'status' | 'body'>): string {
  const errors = ociErrors(response);
  if (errors.length > 0) return `${response.status} ${errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`;
  const text = response.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
  return text ? `${response.status} ${text}` : `${response.status}`;
}
