/** The REST transport's public surface: TF Serving's REST API (and a few endpoints beyond it). */
export { type RestServer, type RestServerOptions, DEFAULT_MAX_BODY_BYTES, DEFAULT_REST_TIMEOUT_MS, createRestServer } from './server.js';
export type { MetricsEndpoint } from './exchange.js';
export { httpStatusOf } from './errors.js';
