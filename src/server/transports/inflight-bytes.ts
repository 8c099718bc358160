/**
 * One budget for the request bytes held by calls in flight, shared by the REST and gRPC ports
 * (--max_inflight_request_bytes). A request is admitted when its bytes fit the budget, or when
 * nothing else is in flight (so one request as large as the body limit always gets through); one
 * that does not fit is refused with RESOURCE_EXHAUSTED (429 on REST) instead of queueing work and
 * memory that would starve health checks and the requests already running. The bytes are held
 * until the call is answered.
 */
import { Code, ServingError } from '../errors.js';

export const DEFAULT_MAX_INFLIGHT_REQUEST_BYTES = 256 * 1024 * 1024;

export class InflightBytes {
  private held = 0;
  private highest = 0;
  private refusals = 0;

  /** `limit` <= 0: no limit (every request is admitted, the bytes still counted). */
  constructor(readonly limit: number) {}

  /** Holds `bytes` when they fit; false (and counted as a refusal) when not. */
  tryHold(bytes: number): boolean {
    if (this.limit > 0 && this.held > 0 && this.held + bytes > this.limit) {
      this.refusals++;
      return false;
    }
    this.held += bytes;
    if (this.held > this.highest) this.highest = this.held;
    return true;
  }

  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }

  /** Bytes held now. */
  get current(): number {
    return this.held;
  }

  /** The most bytes ever held at once. */
  get peak(): number {
    return this.highest;
  }

  get refused(): number {
    return this.refusals;
  }

  /** The error a refused request gets, on either transport. */
  refusal(bytes: number): ServingError {
    return new ServingError(
      Code.RESOURCE_EXHAUSTED,
      `Too many request bytes in flight: ${this.held} held, ${bytes} more would exceed the limit of ${this.limit} (--max_inflight_request_bytes); retry later`,
    );
  }
}
