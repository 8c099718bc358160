/**
 * Where a serving pod's tfmodel-server answers. In a cluster: the pod IP and the fixed ports. For
 * tests and local development (pods simulated by kwok have unreachable IPs): a JSON map file from
 * "namespace/pod" to a host and ports, re-read when it changes.
 */
import { readFileSync, statSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { GRPC_PORT, REST_PORT } from '../api/tfmodel.js';

export interface PodAddress {
  readonly host: string;
  readonly restPort: number;
  readonly grpcPort: number;
}

export interface PodAddressResolver {
  /** Undefined while the pod has no address yet. */
  resolve(pod: V1Pod): PodAddress | undefined;
}

export const podIpResolver: PodAddressResolver = {
  resolve(pod) {
    const ip = pod.status?.podIP;
    return ip ? { host: ip, restPort: REST_PORT, grpcPort: GRPC_PORT } : undefined;
  },
};

export class PodAddressMapFile implements PodAddressResolver {
  private mtimeMs = -1;
  private entries = new Map<string, PodAddress>();

  constructor(private readonly path: string) {}

  resolve(pod: V1Pod): PodAddress | undefined {
    this.refresh();
    return this.entries.get(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
  }

  private refresh(): void {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch {
      this.entries = new Map();
      return;
    }
    if (mtimeMs === this.mtimeMs) return;
    const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, Partial<PodAddress>>;
    const entries = new Map<string, PodAddress>();
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value.host !== 'string' || !Number.isInteger(value.restPort) || !Number.isInteger(value.grpcPort)) {
        throw new Error(`${this.path}: entry "${key}" needs host, restPort and grpcPort`);
      }
      entries.set(key, { host: value.host, restPort: value.restPort!, grpcPort: value.grpcPort! });
    }
    this.entries = entries;
    this.mtimeMs = mtimeMs;
  }
}
