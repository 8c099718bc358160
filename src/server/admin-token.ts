/**
 * Protection for model management (--admin_token_file): HandleReloadConfigRequest and the Open
 * Inference Protocol's repository load/unload answer only callers that present the token, as
 * gRPC metadata or an HTTP header `authorization: Bearer <token>`. Without the flag every caller
 * may manage models, which is TF Serving's behaviour (it has no such check). Checking is one
 * function for both transports; the comparison takes the same time whatever the token sent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Code, ServingError, invalidArgument } from './errors.js';

export class AdminToken {
  private readonly digest: Buffer;

  constructor(token: string) {
    if (token.length === 0) throw invalidArgument('--admin_token_file: the token file is empty');
    this.digest = sha256(token);
  }

  /** The token is the file's content without surrounding whitespace (a Secret's key, mounted). */
  static async fromFile(path: string): Promise<AdminToken> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw invalidArgument(`--admin_token_file: cannot read ${path}: ${(error as Error).message}`);
    }
    return new AdminToken(text.trim());
  }

  /**
   * Throws UNAUTHENTICATED when no bearer token came with the call, PERMISSION_DENIED when it is
   * not this one. `authorization`: the header or metadata values sent.
   */
  check(authorization: readonly string[] | string | undefined, what: string): void {
    const values = authorization === undefined ? [] : typeof authorization === 'string' ? [authorization] : authorization;
    const bearer = values.map((v) => /^\s*Bearer\s+(\S+)\s*$/i.exec(v)?.[1]).find((v) => v !== undefined);
    if (bearer === undefined) {
      throw new ServingError(Code.UNAUTHENTICATED, `${what} requires the admin token: send "authorization: Bearer <token>" (the server runs with --admin_token_file)`);
    }
    if (!timingSafeEqual(sha256(bearer), this.digest)) throw new ServingError(Code.PERMISSION_DENIED, `${what}: the admin token sent is not the server's`);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
